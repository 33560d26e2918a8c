// Intake through a Temporal outage: the real app (GraphQL, embedded Postgres) on a real dev server
// that the test stops and starts again on the same port and database file. A submission answers
// once its request is stored, and the outbox queues it on the lineage workflow, exactly once, as
// soon as Temporal answers again.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { LineagesService } from '../../src/lineages/lineages.service';
import { ModelVersionsService } from '../../src/lineages/model-versions.service';
import { CONTROL_TASK_QUEUE } from '../../src/orchestration/activity-types';
import { createControlActivities, createControlPlane } from '../../src/orchestration/control-activities';
import { DEFAULT_GPU_HEARTBEAT_TIMEOUT_MS } from '../../src/orchestration/orchestration-settings';
import { TemporalRequestQueue } from '../../src/orchestration/temporal-request-queue';
import { ForgetSets } from '../../src/requests/forget-sets.service';
import { RequestLifecycle } from '../../src/requests/request-lifecycle.service';
import { RequestOutcomes } from '../../src/requests/request-outcomes.service';
import { Retention } from '../../src/requests/retention.service';
import { findFreePort, startDevServer, type RunningDevServer } from '../../src/temporal/dev-server';
import { RunningWorkers } from '../../src/temporal/workers';
import { startTestApp, writeDataset, writeModelDir, type TestApp } from '../support/app';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { installQuietRuntime, temporalBinary } from '../support/temporal';
import { eventually, lineageWorkflowBundle } from './harness';

const SUBMIT = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id status } }`;
const REQUEST = `query($id: ID!) { deletionRequest(id: $id) { id status events { type data } } }`;
const CANCEL = `mutation($id: ID!, $reason: String!) { cancelDeletionRequest(id: $id, reason: $reason) { id status } }`;

describe('intake through a Temporal outage (real app, real dev server stopped and started again)', () => {
  let t: TestApp;
  let port: number;
  let dbFile: string;
  let server: RunningDevServer | null = null;
  let workers: RunningWorkers | null = null;
  let connection: NativeConnection | null = null;
  let keyCounter = 0;

  /** The dev server on the same port and database file each time, and a worker serving the lineage workflow on it. */
  async function startTemporal(): Promise<void> {
    server = await startDevServer({ binary: temporalBinary(), port, dbFile });
    await startWorker();
  }

  async function startWorker(): Promise<void> {
    connection = await NativeConnection.connect({ address: server!.address });
    const plane = createControlPlane(
      {
        lineages: t.app.get(LineagesService),
        versions: t.app.get(ModelVersionsService),
        lifecycle: t.app.get(RequestLifecycle),
        outcomes: t.app.get(RequestOutcomes),
        retention: t.app.get(Retention),
        forgetSets: t.app.get(ForgetSets),
        // The lineage's day-long batching window keeps every request waiting: no step begins here.
        gpu: { isPolling: async () => false },
      },
      { artifactsDir: t.config.artifactsDir, maxAttempts: 1, reviewTimeoutMs: 60_000, gpuHeartbeatTimeoutMs: DEFAULT_GPU_HEARTBEAT_TIMEOUT_MS },
    );
    workers = await RunningWorkers.start(connection, 'default', [{ taskQueue: CONTROL_TASK_QUEUE, workflowBundle: await lineageWorkflowBundle(), activities: createControlActivities(plane) }]);
  }

  async function stopTemporal(): Promise<void> {
    await workers?.shutdown();
    await connection?.close();
    await server?.stop();
    [workers, connection, server] = [null, null, null];
  }

  async function submit(): Promise<{ id: string; status: string }> {
    const input = { lineage: 'outage', idempotencyKey: `k${++keyCounter}`, legalBasis: 'GDPR Art. 17(1)(a)', subject: { datasetSubjectId: 's1' } };
    return (await t.operator.ok(SUBMIT, { input })).submitDeletionRequest;
  }

  async function request(id: string): Promise<{ status: string; events: Array<{ type: string; data: { to?: string } }> }> {
    return (await t.operator.ok(REQUEST, { id })).deletionRequest;
  }

  /** The lineage's queue as a client of its own sees it. */
  async function withQueue<T>(use: (queue: TemporalRequestQueue) => Promise<T>): Promise<T> {
    const client = new Client({ connection: await Connection.connect({ address: server!.address }) });
    try {
      return await use(new TemporalRequestQueue(client));
    } finally {
      await client.connection.close();
    }
  }

  before(async () => {
    installQuietRuntime();
    port = await findFreePort();
    dbFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-outage-')), 'temporal.db');
    server = await startDevServer({ binary: temporalBinary(), port, dbFile });
    t = await startTestApp({ env: { TEMPORAL_ADDRESS: server.address } });
    await startWorker();
    const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), [{ id: 's1', name: 'Ada Fictional', knowledge: 'FINETUNED' }]);
    const model = writeModelDir(path.join(t.postgres.dir, 'model'));
    await t.operator.ok(`mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }`, {
      input: { name: 'outage', baseModelPath: model, datasetPath: dataset, batchingWindowSeconds: 86400 },
    });
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => {
    await stopTemporal();
    await t?.stop();
    fs.rmSync(path.dirname(dbFile), { recursive: true, force: true });
  });

  it('answers a submission while Temporal is down, and queues it exactly once within seconds of Temporal coming back', async () => {
    const before = await submit();
    await eventually(async () => assert.equal((await request(before.id)).status, 'QUEUED'), 10_000);

    await stopTemporal();
    const started = Date.now();
    const during = await submit();
    assert.equal(during.status, 'RECEIVED', 'answered once stored');
    assert.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms without Temporal`);
    const canceled = await submit();
    assert.equal((await t.operator.ok(CANCEL, { id: canceled.id, reason: 'withdrawn during the outage' })).cancelDeletionRequest.status, 'CANCELED');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await request(during.id)).status, 'RECEIVED', 'nothing to queue it on');

    await startTemporal();
    const back = Date.now();
    await eventually(async () => assert.equal((await request(during.id)).status, 'QUEUED'), 15_000);
    const lagMs = Date.now() - back;
    assert.ok(lagMs < 10_000, `queued ${lagMs} ms after Temporal came back`);

    // The outbox may offer a request again (a crash between the enqueue and QUEUED): the workflow keeps one.
    await withQueue((queue) => queue.enqueueMany('outage', [during.id, before.id]));
    await withQueue((queue) => queue.enqueue('outage', during.id));
    const state = await withQueue((queue) => queue.state('outage'));
    const queuedIds = state.queue.map((q) => q.requestId);
    assert.deepEqual(queuedIds.filter((id) => id === during.id), [during.id], 'queued once on the workflow');
    assert.deepEqual(queuedIds.filter((id) => id === before.id), [before.id], 'the workflow kept what it had before the outage');
    assert.ok(!state.known.includes(canceled.id), 'a request canceled before it was queued never reaches the workflow');
    const transitions = (await request(during.id)).events.map((e) => e.data.to ?? e.type);
    assert.deepEqual(transitions, ['request.received', 'QUEUED']);
  });
});
