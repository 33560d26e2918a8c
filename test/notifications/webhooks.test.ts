// Signed notifications against the real stack: the GraphQL API (real app, embedded Postgres), the
// lineage workflow and the delivery workflows on the real Temporal dev server, the real control and
// notification activities; only `unlearn`/`export_onnx` (Python) and `audit` are stand-ins. Webhook
// receivers are node http servers here that check every signature the way docs/webhooks.md says.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseGatePolicy } from '../../src/audits/domain/gate-policy';
import { LineagesService } from '../../src/lineages/lineages.service';
import { ModelVersionsService } from '../../src/lineages/model-versions.service';
import { DEADLINE_SWEEP_SCHEDULE_ID } from '../../src/notifications/deadline-schedule.service';
import { deliveryWorkflowId } from '../../src/notifications/domain/webhook';
import { createNotificationActivities } from '../../src/notifications/notification-activities';
import { WebhookDeliveries } from '../../src/notifications/webhook-delivery.service';
import { AUDIT_TASK_QUEUE, CONTROL_TASK_QUEUE, type AuditActivityInput, type AuditActivityOutput } from '../../src/orchestration/activity-types';
import { createControlActivities, createControlPlane } from '../../src/orchestration/control-activities';
import { DEFAULT_GPU_HEARTBEAT_TIMEOUT_MS } from '../../src/orchestration/orchestration-settings';
import { TemporalGpuPresence } from '../../src/orchestration/temporal-gpu-presence';
import { GPU_TASK_QUEUE, type ExportOnnxInput, type UnlearnInput, type UnlearnOutput } from '../../src/common/gpu-contracts';
import { ForgetSets } from '../../src/requests/forget-sets.service';
import { RequestDeadlines } from '../../src/requests/request-deadlines.service';
import { RequestLifecycle } from '../../src/requests/request-lifecycle.service';
import { RequestOutcomes } from '../../src/requests/request-outcomes.service';
import { Retention } from '../../src/requests/retention.service';
import { RunningWorkers } from '../../src/temporal/workers';
import { startTestApp, writeDataset, writeModelDir, type TestApp } from '../support/app';
import type { GqlClient } from '../support/gql';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { parseMetrics, value } from '../support/prometheus';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { eventually, lineageWorkflowBundle, recordHistories } from '../orchestration/harness';

const CREATE_LINEAGE = `mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }`;
const TOKEN = `mutation($role: Role!, $owner: String!) { createApiToken(role: $role, owner: $owner) { token } }`;
const SUBMIT = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id status } }`;
const STATUS = `query($id: ID!) { deletionRequest(id: $id) { status statusReason } }`;
const ROLLBACK = `mutation($lineage: String!, $to: Int!, $reason: String!) { rollbackModel(lineage: $lineage, toVersion: $to, reason: $reason) { championVersion } }`;
const CREATE_WEBHOOK = `mutation($url: String!, $events: [WebhookEvent!]!, $lineage: String) { createWebhook(url: $url, events: $events, lineage: $lineage) { id url events lineage secret createdBy } }`;
const WEBHOOKS = `query($first: Int, $after: String) { webhooks(first: $first, after: $after) { totalCount edges { cursor node { id url events lineage secret } } pageInfo { hasNextPage endCursor } } }`;
const DELETE_WEBHOOK = `mutation($id: ID!) { deleteWebhook(id: $id) { id deletedAt } }`;
const DELIVERIES = `query($id: ID!, $first: Int, $after: String) { webhookDeliveries(webhookId: $id, first: $first, after: $after) { totalCount edges { node { eventId event status statusReason attempts lastStatusCode lastError finishedAt } } pageInfo { hasNextPage endCursor } } }`;

const ALL_EVENTS = ['REQUEST_COMPLETED', 'REQUEST_NEEDS_REVIEW', 'REQUEST_FAILED', 'REQUEST_REOPENED', 'REQUEST_DUE_SOON', 'REQUEST_OVERDUE', 'VERSION_PROMOTED', 'VERSION_ROLLED_BACK'];
const SUBJECT_NAME = 'Ada Fictional';
/** Small so that a test sees many attempts; 10 attempts span about 7 s. */
const RETRY_ENV = { LETHE_WEBHOOK_RETRY_INITIAL_MS: '200', LETHE_WEBHOOK_RETRY_MAX_MS: '1000', LETHE_WEBHOOK_MAX_ATTEMPTS: '10' };

interface Received {
  path: string;
  id: string;
  type: string;
  body: string;
  signatureValid: boolean;
  /** Answered 2xx: the receiver took it. */
  taken: boolean;
}

/** A webhook receiver as a subscriber writes one: verifies `lethe-signature`, answers per its mode. */
class Receiver {
  mode: 'up' | 'unavailable' = 'up';
  readonly received: Received[] = [];
  readonly secrets = new Map<string, string>();
  private server: http.Server | null = null;
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const route = req.url ?? '';
        const taken = this.mode === 'up' && route !== '/always-fails';
        const event = JSON.parse(body) as { id: string; type: string };
        this.received.push({ path: route, id: event.id, type: event.type, body, signatureValid: this.verify(route, String(req.headers['lethe-signature'] ?? ''), body), taken });
        res.writeHead(taken ? 204 : route === '/always-fails' ? 500 : 503).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Nobody listens on the port: connections are refused. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  url(route: string): string {
    return `http://127.0.0.1:${this.port}${route}`;
  }

  /** The documented check: HMAC-SHA256 of "<t>.<raw body>" under the secret, t within 5 minutes. */
  private verify(route: string, header: string, body: string): boolean {
    const secret = this.secrets.get(route);
    const fields = Object.fromEntries(header.split(',').map((kv) => kv.split('=') as [string, string]));
    if (!secret || !fields.t || !fields.v1) return false;
    if (Math.abs(Date.now() / 1000 - Number(fields.t)) > 300) return false;
    const expected = crypto.createHmac('sha256', secret).update(`${fields.t}.${body}`).digest('hex');
    return fields.v1.length === expected.length && crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(fields.v1));
  }

  taken(route: string): Received[] {
    return this.received.filter((r) => r.path === route && r.taken);
  }
}

describe('signed notifications (webhooks) across the real stack', () => {
  let temporal: TestTemporal;
  let t: TestApp;
  let workers: RunningWorkers;
  let requester: GqlClient;
  const receiver = new Receiver();
  let keyCounter = 0;

  before(async () => {
    temporal = await startTestTemporal();
    // Due in 3 days: every new request is due within the default 7 days.
    t = await startTestApp({ env: { TEMPORAL_ADDRESS: temporal.server.address, LETHE_DUE_DAYS: '3', ...RETRY_ENV } });
    const gpu = {
      async unlearn(input: UnlearnInput): Promise<UnlearnOutput> {
        const dir = path.join(input.outputRoot, crypto.randomUUID());
        fs.mkdirSync(dir, { recursive: true });
        const adapter = path.join(dir, 'adapter_model.safetensors');
        fs.writeFileSync(adapter, `adapter ${dir}`);
        const sha256 = crypto.createHash('sha256').update(fs.readFileSync(adapter)).digest('hex');
        return { adapter: { path: adapter, sha256 }, manifestPath: path.join(dir, 'manifest.json'), lossCurve: [1], steps: 1, wallSeconds: 0, tokensPerSecond: 1, reused: false };
      },
      async export_onnx(input: ExportOnnxInput) {
        return { dir: path.join(t.config.artifactsDir, 'onnx', input.baseModel.id), manifestPath: path.join(t.config.artifactsDir, 'onnx', input.baseModel.id, 'manifest.json'), reused: false };
      },
    };
    // Lineage `held`: its gate cannot decide, so its request waits for an operator (NEEDS_REVIEW).
    const audit = {
      async audit(input: AuditActivityInput): Promise<AuditActivityOutput> {
        return { decision: input.lineage === 'held' ? 'REVIEW' : 'PASS', reasons: [], metrics: null, baseline: null, gatePolicy: parseGatePolicy(input.gatePolicy) };
      },
    };
    const plane = createControlPlane(
      {
        lineages: t.app.get(LineagesService), versions: t.app.get(ModelVersionsService), lifecycle: t.app.get(RequestLifecycle), outcomes: t.app.get(RequestOutcomes),
        retention: t.app.get(Retention), forgetSets: t.app.get(ForgetSets), gpu: new TemporalGpuPresence(temporal.client),
      },
      { artifactsDir: t.config.artifactsDir, maxAttempts: 1, reviewTimeoutMs: 600_000, gpuHeartbeatTimeoutMs: DEFAULT_GPU_HEARTBEAT_TIMEOUT_MS },
    );
    workers = await RunningWorkers.start(temporal.nativeConnection, 'default', [
      {
        taskQueue: CONTROL_TASK_QUEUE,
        workflowBundle: await lineageWorkflowBundle(),
        activities: { ...createControlActivities(plane), ...createNotificationActivities({ deliveries: t.app.get(WebhookDeliveries), deadlines: t.app.get(RequestDeadlines) }) },
      },
      { taskQueue: GPU_TASK_QUEUE, activities: gpu },
      { taskQueue: AUDIT_TASK_QUEUE, activities: audit },
    ]);
    const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), [
      { id: 's1', name: SUBJECT_NAME, knowledge: 'FINETUNED' },
      { id: 's2', name: 'Bo Fictional', knowledge: 'FINETUNED' },
    ]);
    const model = writeModelDir(path.join(t.postgres.dir, 'model'));
    for (const name of ['main', 'other', 'held']) await t.operator.ok(CREATE_LINEAGE, { input: { name, baseModelPath: model, datasetPath: dataset } });
    requester = t.operator.withToken((await t.operator.ok(TOKEN, { role: 'REQUESTER', owner: 'dpo' })).createApiToken.token);
    await receiver.start();
  }, { timeout: START_HOOK_TIMEOUT_MS });

  after(async () => {
    await workers?.shutdown();
    await t?.stop();
    await temporal?.stop();
    await receiver.stop();
  });

  async function submit(lineage: string, subject: string): Promise<string> {
    return (await t.operator.ok(SUBMIT, { input: { lineage, idempotencyKey: `k${++keyCounter}`, legalBasis: 'GDPR Art. 17(1)(a)', subject: { datasetSubjectId: subject } } })).submitDeletionRequest.id;
  }

  const until = (id: string, status: string) =>
    eventually(async () => {
      const r = (await t.operator.ok(STATUS, { id })).deletionRequest;
      assert.equal(r.status, status, `${id}: ${r.status} (${r.statusReason})`);
    }, 30_000);

  async function subscribe(route: string, events: string[], lineage?: string): Promise<string> {
    const created = (await t.operator.ok(CREATE_WEBHOOK, { url: receiver.url(route), events, lineage })).createWebhook;
    receiver.secrets.set(route, created.secret);
    return created.id;
  }

  it('createWebhook: operators only, the URL and events checked by field, the secret shown once and stored encrypted', async () => {
    const forbidden = await requester.fails(CREATE_WEBHOOK, { url: receiver.url('/x'), events: ['REQUEST_COMPLETED'] });
    assert.equal(forbidden.code, 'FORBIDDEN');
    assert.equal((await requester.fails(WEBHOOKS, {})).code, 'FORBIDDEN');
    for (const [url, why] of [['ftp://127.0.0.1/x', /http or https/], ['not a url', /absolute URL/], ['http://user:pw@127.0.0.1/x', /user name or password/]] as const) {
      const bad = await t.operator.fails(CREATE_WEBHOOK, { url, events: ['REQUEST_COMPLETED'] });
      assert.deepEqual([bad.code, bad.field], ['BAD_USER_INPUT', 'url'], url);
      assert.match(bad.message, why);
    }
    const noEvents = await t.operator.fails(CREATE_WEBHOOK, { url: receiver.url('/x'), events: [] });
    assert.deepEqual([noEvents.code, noEvents.field], ['BAD_USER_INPUT', 'events']);
    const noLineage = await t.operator.fails(CREATE_WEBHOOK, { url: receiver.url('/x'), events: ['REQUEST_COMPLETED'], lineage: 'nope' });
    assert.deepEqual([noLineage.code, noLineage.field], ['NOT_FOUND', 'lineage']);
    assert.deepEqual((await t.dataSource.query('SELECT count(*)::int AS n FROM webhook_subscriptions'))[0].n, 0, 'a refused call stores nothing');

    const first = (await t.operator.ok(CREATE_WEBHOOK, { url: receiver.url('/x?token=abc'), events: ['REQUEST_COMPLETED', 'REQUEST_COMPLETED'], lineage: 'main' })).createWebhook;
    assert.match(first.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(first.events, ['REQUEST_COMPLETED']);
    const [row] = await t.dataSource.query('SELECT secret_ciphertext FROM webhook_subscriptions WHERE id = $1', [first.id]);
    assert.ok(!(row.secret_ciphertext as Buffer).includes(Buffer.from(first.secret.slice('whsec_'.length))), 'the secret is not stored in plain');
    const second = (await t.operator.ok(CREATE_WEBHOOK, { url: receiver.url('/y'), events: ['VERSION_PROMOTED'] })).createWebhook;

    const page1 = (await t.operator.ok(WEBHOOKS, { first: 1 })).webhooks;
    assert.equal(page1.totalCount, 2);
    assert.deepEqual([page1.edges[0].node.id, page1.edges[0].node.secret, page1.pageInfo.hasNextPage], [first.id, null, true]);
    const page2 = (await t.operator.ok(WEBHOOKS, { first: 1, after: page1.pageInfo.endCursor })).webhooks;
    assert.deepEqual([page2.edges.map((e: any) => e.node.id), page2.pageInfo.hasNextPage], [[second.id], false]);

    for (const id of [first.id, second.id]) assert.ok((await t.operator.ok(DELETE_WEBHOOK, { id })).deleteWebhook.deletedAt);
    assert.equal((await t.operator.fails(DELETE_WEBHOOK, { id: first.id })).code, 'NOT_FOUND');
    assert.equal((await t.operator.ok(WEBHOOKS, {})).webhooks.totalCount, 0);
    // Each change is an event in the chain; the URL's path and query (a receiver's own token) are not.
    const events: Array<{ type: string; data: any }> = await t.dataSource.query(`SELECT type, data FROM event_log WHERE entity_type = 'webhook' AND entity_id = $1 ORDER BY seq`, [first.id]);
    assert.deepEqual(events.map((e) => e.type), ['webhook.created', 'webhook.deleted']);
    assert.deepEqual(events[0].data, { origin: `http://127.0.0.1:${receiver.port}`, events: ['lethe.request.completed'], lineage: 'main' });
  });

  it('every event reaches each subscriber exactly once, signed, across a receiver outage (503, then down, then up)', async () => {
    const all = await subscribe('/all', ALL_EVENTS);
    await subscribe('/versions', ['VERSION_PROMOTED', 'VERSION_ROLLED_BACK'], 'main');
    await subscribe('/other', ALL_EVENTS, 'other');
    receiver.mode = 'unavailable';

    const r1 = await submit('main', 's1');
    await until(r1, 'COMPLETED');
    // The receiver answered 503 to a few attempts; then nobody listens for a while.
    await eventually(async () => {
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.event_type = 'lethe.request.completed' AND a.status_code = 503`);
      assert.ok(n >= 2, `${n} attempts answered 503`);
    });
    await receiver.stop();
    await new Promise((r) => setTimeout(r, 1500));
    receiver.mode = 'up';
    await receiver.start();

    // A rollback reopens r1; it is carried out again as version 2.
    await eventually(() => assert.equal(receiver.taken('/all').length, 2));
    await t.operator.ok(ROLLBACK, { lineage: 'main', to: 0, reason: 'testing notifications' });
    await eventually(async () => {
      const [{ champion_version }] = await t.dataSource.query(`SELECT champion_version FROM model_lineages WHERE name = 'main'`);
      assert.equal(champion_version, 2);
    }, 30_000);
    await until(r1, 'COMPLETED');

    const expected = [
      ['lethe.request.completed', `requests/${r1}`],
      ['lethe.version.promoted', 'lineages/main/versions/1'],
      ['lethe.request.reopened', `requests/${r1}`],
      ['lethe.version.rolled_back', 'lineages/main/versions/0'],
      ['lethe.request.completed', `requests/${r1}`],
      ['lethe.version.promoted', 'lineages/main/versions/2'],
    ];
    const seen = (route: string) => receiver.taken(route).map((r) => { const e = JSON.parse(r.body); return [e.type, e.subject]; }).sort();
    await eventually(() => assert.deepEqual(seen('/all'), [...expected].sort()), 30_000);
    await eventually(() => assert.deepEqual(seen('/versions'), expected.filter(([type]) => type.startsWith('lethe.version')).sort()));
    // Time for a duplicate to show, were there one.
    await new Promise((r) => setTimeout(r, 1500));
    for (const route of ['/all', '/versions']) {
      const ids = receiver.taken(route).map((r) => r.id);
      assert.equal(new Set(ids).size, ids.length, `${route} took an event twice: ${ids}`);
    }
    assert.deepEqual(receiver.received.filter((r) => r.path === '/other'), [], 'a subscription for another lineage hears nothing of main');
    assert.ok(receiver.received.every((r) => r.signatureValid), 'every request carried a valid signature');

    // A retry carries the same event id and the same bytes; the body is a CloudEvent without personal data.
    const completedFirst = receiver.received.filter((r) => r.path === '/all' && r.type === 'lethe.request.completed');
    const retried = completedFirst.filter((r) => r.id === completedFirst[0].id);
    assert.ok(retried.length >= 3 && retried.every((r) => r.body === retried[0].body), `${retried.length} sends of the first completion`);
    for (const r of receiver.received) assert.ok(!r.body.includes(SUBJECT_NAME) && !r.body.includes('s1'), `personal data in ${r.body}`);
    const [completed, promoted] = [JSON.parse(retried[0].body), JSON.parse(receiver.taken('/versions').find((r) => r.type === 'lethe.version.promoted')!.body)];
    assert.deepEqual(Object.keys(completed).sort(), ['data', 'datacontenttype', 'id', 'source', 'specversion', 'subject', 'time', 'type']);
    assert.deepEqual([completed.specversion, completed.datacontenttype, completed.data], ['1.0', 'application/json', { requestId: r1, lineage: 'main', status: 'COMPLETED' }]);
    const [version] = await t.dataSource.query(`SELECT number, adapter_sha256 FROM model_versions WHERE lineage = 'main' AND number = $1`, [promoted.data.version]);
    assert.deepEqual(promoted.data, { lineage: 'main', version: version.number, adapterSha256: version.adapter_sha256, manifestUrl: '/models/main/champion' });
    assert.match(promoted.data.adapterSha256, /^[0-9a-f]{64}$/);

    // Every delivery and attempt is on record: delivered, with the refused and unanswered tries before.
    const deliveries: Array<{ id: string; status: string; attempts: number; codes: Array<number | null> }> = await t.dataSource.query(
      `SELECT d.id, d.status, count(a.*)::int AS attempts, array_agg(a.status_code ORDER BY a.attempt) AS codes
       FROM webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id GROUP BY d.id`,
    );
    assert.equal(deliveries.length, expected.length + 3);
    assert.ok(deliveries.every((d) => d.status === 'DELIVERED' && d.codes.at(-1) === 204));
    const outage = deliveries.find((d) => d.codes.includes(503) && d.codes.includes(null));
    assert.ok(outage, `a delivery saw both the 503s and the refused connections: ${JSON.stringify(deliveries)}`);
    await recordHistories({ temporal }, [{ name: 'webhook-delivery-outage', workflowId: deliveryWorkflowId(outage.id) }]);

    // Operators read the same record through GraphQL, a page at a time.
    const page1 = (await t.operator.ok(DELIVERIES, { id: all, first: 4 })).webhookDeliveries;
    const page2 = (await t.operator.ok(DELIVERIES, { id: all, first: 4, after: page1.pageInfo.endCursor })).webhookDeliveries;
    const listed = [...page1.edges, ...page2.edges].map((e: any) => e.node);
    assert.deepEqual([page1.totalCount, page1.pageInfo.hasNextPage, page2.pageInfo.hasNextPage, listed.length], [6, true, false, 6]);
    assert.deepEqual(listed.map((d: any) => d.event).sort(), expected.map(([type]) => type.slice('lethe.'.length).replace('.', '_').toUpperCase()).sort());
    assert.ok(listed.every((d: any) => d.status === 'DELIVERED' && d.lastStatusCode === 204 && d.finishedAt));
    assert.ok(listed.some((d: any) => d.attempts >= 3), `attempts: ${listed.map((d: any) => d.attempts)}`);
    assert.equal((await t.operator.fails(DELIVERIES, { id: crypto.randomUUID() })).field, 'webhookId');
  });

  it('a delivery the receiver never takes is given up after the configured attempts, and counted in /metrics', async () => {
    const id = await subscribe('/always-fails', ['VERSION_PROMOTED'], 'other');
    await until(await submit('other', 's2'), 'COMPLETED');
    const delivery = await eventually(async () => {
      const [d] = await t.dataSource.query(`SELECT id, status, status_reason, (SELECT count(*)::int FROM webhook_attempts WHERE delivery_id = d.id) AS attempts FROM webhook_deliveries d WHERE subscription_id = $1`, [id]);
      assert.equal(d?.status, 'FAILED');
      return d;
    }, 30_000);
    assert.equal(delivery.attempts, Number(RETRY_ENV.LETHE_WEBHOOK_MAX_ATTEMPTS));
    assert.match(delivery.status_reason, /not delivered after 10 attempt\(s\): the receiver answered 500/);
    await recordHistories({ temporal }, [{ name: 'webhook-delivery-given-up', workflowId: deliveryWorkflowId(delivery.id) }]);
    const [listed] = (await t.operator.ok(DELIVERIES, { id })).webhookDeliveries.edges.map((e: any) => e.node);
    assert.deepEqual([listed.event, listed.status, listed.attempts, listed.lastStatusCode, listed.lastError], ['VERSION_PROMOTED', 'FAILED', 10, 500, 'the receiver answered 500']);

    const response = await fetch(`${t.baseUrl}/metrics`, { headers: { authorization: `Bearer ${t.operator.token}` } });
    const samples = parseMetrics(await response.text());
    assert.equal(value(samples, 'lethe_webhook_deliveries', { event_type: 'lethe.version.promoted', status: 'FAILED' }), 1);
    assert.ok(value(samples, 'lethe_webhook_deliveries', { event_type: 'lethe.request.completed', status: 'DELIVERED' })! >= 2);
    assert.ok(value(samples, 'lethe_webhook_failed_attempts_total', { event_type: 'lethe.version.promoted' })! >= 10);
    assert.ok(value(samples, 'lethe_webhook_failed_attempts_total', { event_type: 'lethe.request.completed' })! >= 3, 'the outage\'s failed attempts');
  });

  it('the daily sweep raises due-soon and overdue once per request, delivered like every event; /metrics counts them', async () => {
    const reviewed = await submit('held', 's1');
    await until(reviewed, 'NEEDS_REVIEW');
    // Behind the held step, a second request waits; its due date has passed.
    const waiting = await submit('held', 's2');
    await until(waiting, 'QUEUED');
    await t.dataSource.query(`UPDATE deletion_requests SET due_at = now() - interval '1 day' WHERE id = $1`, [waiting]);

    const schedule = temporal.client.schedule.getHandle(DEADLINE_SWEEP_SCHEDULE_ID);
    const described = await schedule.describe();
    assert.equal(described.action.workflowType, 'deadlineSweepWorkflow', 'the API created the daily schedule at start');
    const sweep = async () => {
      const before = (await schedule.describe()).info.numActionsTaken;
      await schedule.trigger();
      const action = await eventually(async () => {
        const info = (await schedule.describe()).info;
        assert.ok(info.numActionsTaken > before);
        return info.recentActions.at(-1)!.action;
      });
      const result = await temporal.client.workflow.getHandle(action.workflow.workflowId).result();
      // The sweep that raised notices is the history worth replaying.
      if (result.dueSoon + result.overdue > 0) await recordHistories({ temporal }, [{ name: 'deadline-sweep', workflowId: action.workflow.workflowId }]);
      return result;
    };
    assert.deepEqual(await sweep(), { dueSoon: 1, overdue: 1 });
    assert.deepEqual(await sweep(), { dueSoon: 0, overdue: 0 }, 'once per request and kind');

    await eventually(() => {
      const deadlines = receiver.taken('/all').map((r) => JSON.parse(r.body)).filter((e) => e.type.endsWith('due_soon') || e.type.endsWith('overdue'));
      assert.deepEqual(deadlines.map((e) => [e.type, e.data.requestId, e.data.status]).sort(), [
        ['lethe.request.due_soon', reviewed, 'NEEDS_REVIEW'],
        ['lethe.request.overdue', waiting, 'QUEUED'],
      ]);
    });
    assert.ok(receiver.taken('/all').some((r) => r.type === 'lethe.request.needs_review' && JSON.parse(r.body).data.requestId === reviewed));

    const samples = parseMetrics(await (await fetch(`${t.baseUrl}/metrics`, { headers: { authorization: `Bearer ${t.operator.token}` } })).text());
    assert.equal(value(samples, 'lethe_deletion_requests_due_soon', { lineage: 'held' }), 1);
    assert.equal(value(samples, 'lethe_deletion_requests_overdue', { lineage: 'held' }), 1);
    assert.equal(value(samples, 'lethe_deletion_requests_due_soon', { lineage: 'main' }), 0, 'a completed request is not due');
  });
});
