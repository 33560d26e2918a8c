// src/worker.ts as its own process next to the API: it hosts the lineage workflows, the real
// bookkeeping activities, the real audit activity and the webhook deliveries; the test serves only
// queue `gpu`. Then SIGTERM stops it cleanly.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { GPU_TASK_QUEUE, type UnlearnInput } from '../../src/common/gpu-contracts';
import { RunningWorkers } from '../../src/temporal/workers';
import { startTestApp, writeDataset, writeModelDir, type TestApp } from '../support/app';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { eventually } from './harness';

const WORKER = path.resolve(__dirname, '../../src/worker.js');
const SUBMIT = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id } }`;
const REQUEST = `query($id: ID!) { deletionRequest(id: $id) { status statusReason } }`;
const REVIEW = `mutation($id: ID!, $decision: ReviewDecision!, $reason: String!) { reviewDeletionRequest(id: $id, decision: $decision, reason: $reason) { id } }`;

let temporal: TestTemporal;
let t: TestApp;
let gpu: RunningWorkers;
let worker: ChildProcess;
let workerOutput = '';

before(async () => {
  temporal = await startTestTemporal();
  t = await startTestApp({ env: { TEMPORAL_ADDRESS: temporal.server.address } });
  gpu = await RunningWorkers.start(temporal.nativeConnection, 'default', [
    {
      taskQueue: GPU_TASK_QUEUE,
      activities: {
        async unlearn(input: UnlearnInput) {
          const adapter = path.join(input.outputRoot, 'adapter_model.safetensors');
          fs.mkdirSync(input.outputRoot, { recursive: true });
          fs.writeFileSync(adapter, 'not a real adapter');
          const sha256 = crypto.createHash('sha256').update(fs.readFileSync(adapter)).digest('hex');
          return { adapter: { path: adapter, sha256 }, manifestPath: adapter, lossCurve: [1], steps: 1, wallSeconds: 0, tokensPerSecond: 0, reused: false };
        },
        async export_onnx() {
          return { dir: path.join(t.postgres.dir, 'no-onnx-here'), manifestPath: path.join(t.postgres.dir, 'no-onnx-here', 'manifest.json'), reused: false };
        },
      },
    },
  ]);
  // What a crash mid-step leaves behind: a decrypted forget set whose step no longer runs.
  const orphan = path.join(t.config.artifactsDir, 'forget-sets', 'step-crashed');
  fs.mkdirSync(orphan, { recursive: true });
  fs.writeFileSync(path.join(orphan, 'step.json'), JSON.stringify({ lineage: 'gone', requestIds: [crypto.randomUUID()] }));
  fs.writeFileSync(path.join(orphan, 'forget-set.json'), JSON.stringify({ subjects: [{ requestId: 'x', name: 'Orphaned Person', datasetSubjectId: null, images: [], facts: [] }] }));
  worker = spawn(process.execPath, [WORKER], {
    env: { ...process.env, DATABASE_URL: t.postgres.url, TEMPORAL_ADDRESS: temporal.server.address, LETHE_DATA_DIR: t.config.dataDir, LETHE_ARTIFACTS_DIR: t.config.artifactsDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (d) => (workerOutput += d));
  worker.stderr!.on('data', (d) => (workerOutput += d));
  await eventually(() => assert.match(workerOutput, /workers polling control and audit/), 60_000);
}, { timeout: START_HOOK_TIMEOUT_MS });

after(async () => {
  if (worker && worker.exitCode === null) worker.kill('SIGKILL');
  await gpu?.shutdown();
  await t?.stop();
  await temporal?.stop();
});

it('sweeps, at start, the forget-set files no running step owns', () => {
  assert.deepEqual(fs.readdirSync(path.join(t.config.artifactsDir, 'forget-sets')), []);
  assert.match(workerOutput, /removed 1 forget-set directory no running step owns/);
});

it('runs a request through the worker process; the real audit fails closed on a fake artifact, and the worker delivers its signed needs-review notification', async () => {
  const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), [{ id: 's1', name: 'Ada Fictional', knowledge: 'FINETUNED' }]);
  const model = writeModelDir(path.join(t.postgres.dir, 'model'));
  await t.operator.ok(`mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }`, { input: { name: 'proc', baseModelPath: model, datasetPath: dataset } });
  const input = { lineage: 'proc', idempotencyKey: 'p1', legalBasis: 'GDPR Art. 17(1)(a)', subject: { datasetSubjectId: 's1' } };
  // A subscriber: the worker process records the delivery with its event and makes it.
  const received: Array<{ signature: string; body: string }> = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ signature: String(req.headers['lethe-signature']), body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const { secret } = (await t.operator.ok(`mutation($url: String!) { createWebhook(url: $url, events: [REQUEST_NEEDS_REVIEW]) { secret } }`, { url })).createWebhook;
  const id = (await t.operator.ok(SUBMIT, { input })).submitDeletionRequest.id as string;
  // No ONNX export exists: the audit cannot produce numbers, so it must not promote.
  const held = await eventually(async () => {
    const r = (await t.operator.ok(REQUEST, { id })).deletionRequest;
    assert.equal(r.status, 'NEEDS_REVIEW', `${r.status} ${r.statusReason} | worker: ${workerOutput.slice(-2000)}`);
    return r;
  }, 60_000);
  assert.match(held.statusReason, /audit/i);
  const [delivered] = await eventually(() => {
    assert.equal(received.length, 1);
    return received;
  }, 30_000);
  receiver.close();
  const event = JSON.parse(delivered.body);
  assert.deepEqual([event.type, event.data], ['lethe.request.needs_review', { requestId: id, lineage: 'proc', status: 'NEEDS_REVIEW' }]);
  const [, t0, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(delivered.signature)!;
  assert.equal(v1, crypto.createHmac('sha256', secret).update(`${t0}.${delivered.body}`).digest('hex'));
  await t.operator.ok(REVIEW, { id, decision: 'REJECT', reason: 'the audit could not run' });
  await eventually(async () => assert.equal((await t.operator.ok(REQUEST, { id })).deletionRequest.status, 'REJECTED'), 30_000);
});

it('stops cleanly on SIGTERM', async () => {
  const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
  const started = Date.now();
  worker.kill('SIGTERM');
  assert.equal(await exited, 0, workerOutput.slice(-2000));
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
});

it('refuses to start without the shared database, naming DATABASE_URL', () => {
  const { DATABASE_URL: _unset, ...env } = process.env;
  const result = spawnSync(process.execPath, [WORKER], { env, encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /DATABASE_URL must be set for the worker process/);
});
