// /metrics and /readyz over HTTP against the real app, embedded Postgres and a real Temporal dev
// server: the app's Temporal client is the real one (readiness probes it), the RequestQueue a
// recording one (no workflow runs, so submitted requests stay QUEUED until the test moves them).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Module } from '@nestjs/common';
import { REQUEST_QUEUE } from '../../src/requests/domain/request-queue.port';
import { TemporalModule } from '../../src/temporal/temporal.module';
import { RequestLifecycle } from '../../src/requests/request-lifecycle.service';
import { startTestApp, writeDataset, writeModelDir, type TestApp } from '../support/app';
import type { GqlClient } from '../support/gql';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { parseMetrics, value } from '../support/prometheus';
import { RecordingQueue } from '../support/recording-queue';
import { startTestTemporal, type TestTemporal } from '../support/temporal';

const CREATE_LINEAGE = `mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }`;
const TOKEN = `mutation($role: Role!, $owner: String!) { createApiToken(role: $role, owner: $owner) { token } }`;
const SUBMIT = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id status } }`;
const STATUS = `query($id: ID!) { deletionRequest(id: $id) { status } }`;

const SUBJECT_NAME = 'Ada Fictional';

/** The real Temporal client (TEMPORAL_ADDRESS) with a recorded queue. */
function recordedQueueWithTemporal(queue: RecordingQueue) {
  @Module({ imports: [TemporalModule], providers: [{ provide: REQUEST_QUEUE, useValue: queue }], exports: [REQUEST_QUEUE] })
  class RecordedQueueWithTemporal {}
  return RecordedQueueWithTemporal;
}

describe('/metrics and /readyz (real app, embedded Postgres, Temporal dev server)', () => {
  let temporal: TestTemporal;
  let t: TestApp;
  let requester: GqlClient;
  let auditorToken: string;
  let requesterToken: string;
  let postgresStopped = false;

  const scrape = (token: string | null) => fetch(`${t.baseUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const submit = async (key: string) => (await requester.ok(SUBMIT, { input: { lineage: 'main', idempotencyKey: key, legalBasis: 'GDPR Art. 17(1)(a)', subject: { datasetSubjectId: 's1' } } })).submitDeletionRequest.id as string;
  const queued = async (id: string) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { status } = (await t.operator.ok(STATUS, { id })).deletionRequest;
      if (status === 'QUEUED') return;
      if (Date.now() > deadline) assert.fail(`request stayed ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  before(async () => {
    temporal = await startTestTemporal();
    t = await startTestApp({ orchestration: recordedQueueWithTemporal(new RecordingQueue()), env: { TEMPORAL_ADDRESS: temporal.server.address } });
    const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), [{ id: 's1', name: SUBJECT_NAME, knowledge: 'FINETUNED' }]);
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'main', baseModelPath: writeModelDir(path.join(t.postgres.dir, 'model')), datasetPath: dataset } });
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'quiet', baseModelPath: writeModelDir(path.join(t.postgres.dir, 'model2')), datasetPath: dataset } });
    requesterToken = (await t.operator.ok(TOKEN, { role: 'REQUESTER', owner: 'alice-requester' })).createApiToken.token;
    auditorToken = (await t.operator.ok(TOKEN, { role: 'AUDITOR', owner: 'prometheus' })).createApiToken.token;
    requester = t.operator.withToken(requesterToken);
  }, { timeout: START_HOOK_TIMEOUT_MS });

  after(async () => {
    await t?.app.close();
    if (!postgresStopped) await t?.postgres.stop();
    await temporal?.stop();
  });

  it('/readyz answers 200 without a token when the database and Temporal answer', async () => {
    const response = await fetch(`${t.baseUrl}/readyz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok', database: 'ok', temporal: 'ok' });
  });

  it('/metrics: 401 without a token, 403 for a REQUESTER', async () => {
    const anonymous = await scrape(null);
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
    const asRequester = await scrape(requesterToken);
    assert.equal(asRequester.status, 403);
    assert.equal(((await asRequester.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');
  });

  it('a submitted request shows in its lineage\'s status gauge and queue depth; figures come from the database', async () => {
    const waiting = await submit('k1');
    await queued(waiting);
    const done = await submit('k2');
    await queued(done);
    // The request's life without a worker: the lifecycle's own transitions, as the workflow records them.
    const lifecycle = t.app.get(RequestLifecycle);
    for (const to of ['UNLEARNING', 'AUDITING', 'COMPLETED'] as const) await lifecycle.transitionNow(done, to, { actor: 'system:test' });
    await t.dataSource.query(`UPDATE deletion_requests SET due_at = now() - interval '1 day' WHERE id = $1`, [waiting]);

    const response = await scrape(t.operator.token);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const samples = parseMetrics(text);

    assert.equal(value(samples, 'lethe_deletion_requests', { lineage: 'main', status: 'QUEUED' }), 1);
    assert.equal(value(samples, 'lethe_deletion_requests', { lineage: 'main', status: 'COMPLETED' }), 1);
    assert.equal(value(samples, 'lethe_deletion_requests', { lineage: 'main', status: 'RECEIVED' }), 0);
    assert.equal(value(samples, 'lethe_deletion_requests', { lineage: 'quiet', status: 'QUEUED' }), 0, 'a lineage without requests reads 0, not absent');
    assert.equal(value(samples, 'lethe_queue_depth', { lineage: 'main' }), 1);
    assert.equal(value(samples, 'lethe_queue_depth', { lineage: 'quiet' }), 0);
    const age = value(samples, 'lethe_queue_oldest_age_seconds', { lineage: 'main' })!;
    assert.ok(age >= 0 && age < 120, `oldest queued age ${age}`);
    assert.equal(value(samples, 'lethe_deletion_requests_overdue', { lineage: 'main' }), 1);
    assert.equal(value(samples, 'lethe_deletion_requests_due_soon', { lineage: 'main' }), 0, 'the statutory month is further than 7 days');
    assert.equal(value(samples, 'lethe_deletion_request_completion_seconds_count', { lineage: 'main' }), 1);
    assert.equal(value(samples, 'lethe_deletion_request_completion_seconds_bucket', { lineage: 'main', le: '3600' }), 1);
    assert.equal(value(samples, 'lethe_deletion_request_completion_seconds_bucket', { lineage: 'main', le: '+Inf' }), 1);
    assert.equal(value(samples, 'lethe_request_training_seconds_count', { lineage: 'main' }), 1);
    assert.equal(value(samples, 'lethe_request_audit_seconds_count', { lineage: 'main' }), 1);
    assert.equal(value(samples, 'lethe_request_audit_seconds_bucket', { lineage: 'main', le: '60' }), 1);

    // No personal data: no subject name, requester, request or subject id.
    for (const secret of [SUBJECT_NAME, 'alice-requester', waiting, done, 's1']) assert.ok(!text.includes(secret), `metrics mention ${secret}`);
    const labelNames = new Set(samples.flatMap((s) => Object.keys(s.labels)));
    assert.deepEqual([...labelNames].sort(), ['event_type', 'le', 'lineage', 'status']);
    // Webhook series are there before any webhook exists: 0, not absent.
    assert.equal(value(samples, 'lethe_webhook_failed_attempts_total', { event_type: 'lethe.request.completed' }), 0);
    assert.equal(value(samples, 'lethe_webhook_deliveries', { event_type: 'lethe.version.promoted', status: 'FAILED' }), 0);

    // An AUDITOR token (what a scraper is given) reads the same; a cancellation shows at the next scrape.
    await t.dataSource.query(`UPDATE deletion_requests SET status = 'CANCELED' WHERE id = $1`, [waiting]);
    const again = await scrape(auditorToken);
    assert.equal(again.status, 200);
    const next = parseMetrics(await again.text());
    assert.equal(value(next, 'lethe_deletion_requests', { lineage: 'main', status: 'QUEUED' }), 0);
    assert.equal(value(next, 'lethe_queue_depth', { lineage: 'main' }), 0);
    assert.equal(value(next, 'lethe_queue_oldest_age_seconds', { lineage: 'main' }), 0);
    assert.equal(value(next, 'lethe_deletion_requests_overdue', { lineage: 'main' }), 0, 'a final request is not overdue');
  });

  it('/readyz answers 503 naming the database once the database is stopped; /healthz fails too', async () => {
    await t.postgres.stop();
    postgresStopped = true;
    const response = await fetch(`${t.baseUrl}/readyz`);
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { status: 'not ready', database: 'not ready', temporal: 'ok' });
    assert.notEqual((await fetch(`${t.baseUrl}/healthz`)).status, 200);
  });
});
