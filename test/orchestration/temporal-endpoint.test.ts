// The embedded Temporal default: the real dev server from LETHE_TEMPORAL_BIN with its state in
// <dataDir>/temporal.db, shared by the processes of one machine, surviving restarts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { findFreePort, startDevServer } from '../../src/temporal/dev-server';
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

/** The real CLI behind a wrapper that crashes at start-up the first `crashes` times, as the dev server sometimes does (temporalio/cli#667). */
function crashingBinary(crashes: number): string {
  const dir = fs.mkdtempSync(path.join(dataDir, 'crashing-'));
  const script = path.join(dir, 'temporal');
  const count = path.join(dir, 'starts');
  fs.writeFileSync(script, [
    '#!/bin/sh',
    `echo x >> '${count}'`,
    `if [ "$(wc -l < '${count}')" -le ${crashes} ]; then echo 'panic: runtime error: invalid memory address or nil pointer dereference' >&2; exit 2; fi`,
    `exec '${temporalBinary()}' "$@"`,
  ].join('\n') + '\n', { mode: 0o755 });
  return script;
}

it('starts the dev server again when it dies during start-up, and gives up after the last attempt', async () => {
  const lines: string[] = [];
  const server = await startDevServer({ binary: crashingBinary(1), onOutput: (line) => lines.push(line) });
  try {
    assert.match(lines.join('\n'), /exited with code 2; starting again \(attempt 2 of 3\)/);
    const connection = await Connection.connect({ address: server.address });
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    await connection.close();
  } finally {
    await server.stop();
  }

  const retries: string[] = [];
  await assert.rejects(
    startDevServer({ binary: crashingBinary(3), onOutput: (line) => line.startsWith('[lethe]') && retries.push(line) }),
    /did not start: the process exited with code 2[\s\S]*nil pointer dereference/,
  );
  assert.equal(retries.length, 2, 'three attempts: two restarts, then the error');
});
