// The embedded Temporal default: the real dev server from LETHE_TEMPORAL_BIN with its state in
// <dataDir>/temporal.db, shared by the processes of one machine, surviving restarts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { findFreePort } from '../../src/temporal/dev-server';
import { resolveTemporalEndpoint } from '../../src/temporal/temporal-endpoint';
import { temporalBinary } from '../support/temporal';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-temporal-'));
after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

it('starts the dev server once, lets a second process reuse it, and keeps workflows across a restart', async () => {
  const env = { LETHE_TEMPORAL_BIN: temporalBinary(), LETHE_TEMPORAL_PORT: String(await findFreePort()) };
  const first = await resolveTemporalEndpoint({ address: null, namespace: 'default', dataDir, env });
  assert.ok(first.ownedServer, 'the first process starts the server');
  assert.ok(fs.existsSync(path.join(dataDir, 'temporal.db')));
  const second = await resolveTemporalEndpoint({ address: null, namespace: 'default', dataDir, env });
  assert.equal(second.address, first.address);
  assert.equal(second.ownedServer, null, 'a second process uses the running server');

  let connection = await Connection.connect({ address: first.address });
  // A workflow nobody serves stays RUNNING: enough to see it survive the restart.
  await new Client({ connection }).workflow.start('lineageWorkflow', { workflowId: 'lineage:persisted', taskQueue: 'nobody', args: [{ lineage: 'persisted' }] });
  await connection.close();
  await first.ownedServer!.stop();

  const restarted = await resolveTemporalEndpoint({ address: null, namespace: 'default', dataDir, env });
  try {
    connection = await Connection.connect({ address: restarted.address });
    const described = await new Client({ connection }).workflow.getHandle('lineage:persisted').describe();
    assert.equal(described.status.name, 'RUNNING');
    await connection.close();
  } finally {
    await restarted.ownedServer?.stop();
  }
});

it('uses TEMPORAL_ADDRESS as given, without starting anything', async () => {
  const endpoint = await resolveTemporalEndpoint({ address: 'temporal.example:7233', namespace: 'prod', dataDir, env: {} });
  assert.deepEqual(endpoint, { address: 'temporal.example:7233', namespace: 'prod', ownedServer: null });
});

it('names the variable at fault', async () => {
  const port = String(await findFreePort());
  await assert.rejects(resolveTemporalEndpoint({ address: null, namespace: 'default', dataDir, env: { LETHE_TEMPORAL_PORT: port } }), /LETHE_TEMPORAL_BIN/);
  await assert.rejects(resolveTemporalEndpoint({ address: null, namespace: 'default', dataDir, env: { LETHE_TEMPORAL_PORT: port, LETHE_TEMPORAL_BIN: '/nope/temporal' } }), /LETHE_TEMPORAL_BIN/);
  await assert.rejects(resolveTemporalEndpoint({ address: null, namespace: 'default', dataDir, env: { LETHE_TEMPORAL_PORT: '70000' } }), /LETHE_TEMPORAL_PORT/);
});
