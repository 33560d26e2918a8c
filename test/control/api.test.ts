import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { printAppSchema, SCHEMA_FILE } from '../../src/app.module';
import { ModelVersionsService } from '../../src/lineages/model-versions.service';
import { RequestLifecycle } from '../../src/requests/request-lifecycle.service';
import { RequestOutcomes } from '../../src/requests/request-outcomes.service';
import { startTestApp, TestApp, writeDataset, writeModelDir } from '../support/app';
import { GqlClient } from '../support/gql';
import { makeJpegHeader, makePng } from '../support/images';
import { adminQuery, START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { RecordingQueue, recordingQueueModule } from '../support/recording-queue';

const SUBMIT = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id status lineage subjectName createdAt dueAt requester modelVersion { number } events { type actor data } } }`;
const REQUEST = `query($id: ID!) { deletionRequest(id: $id) { id status statusReason subjectName note modelVersion { number status } events { type reason data } } }`;
const CANCEL = `mutation($id: ID!, $reason: String!) { cancelDeletionRequest(id: $id, reason: $reason) { id status } }`;
const REVIEW = `mutation($id: ID!, $decision: ReviewDecision!, $reason: String!) { reviewDeletionRequest(id: $id, decision: $decision, reason: $reason) { id status } }`;
const ROLLBACK = `mutation($lineage: String!, $to: Int!, $reason: String!) { rollbackModel(lineage: $lineage, toVersion: $to, reason: $reason) { name championVersion } }`;
const LINEAGE = `query($name: String!) { modelLineage(name: $name) { name championVersion gatePolicyVersion champion { number status } versions { number status parentNumber requestIds } } }`;
const CREATE_LINEAGE = `mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name championVersion } }`;
const GATE = `mutation($lineage: String!, $policy: JSON!) { updateGatePolicy(lineage: $lineage, gatePolicy: $policy) { gatePolicyVersion gatePolicy } }`;
const TOKEN = `mutation($role: Role!, $owner: String!) { createApiToken(role: $role, owner: $owner) { token role owner } }`;
const CREATE_WEBHOOK = `mutation($url: String!, $events: [WebhookEvent!]!) { createWebhook(url: $url, events: $events) { id secret } }`;
const WEBHOOKS = `{ webhooks(first: 5) { totalCount edges { node { id } } } }`;
const DELETE_WEBHOOK = `mutation($id: ID!) { deleteWebhook(id: $id) { id } }`;
const DELIVERIES = `query($id: ID!) { webhookDeliveries(webhookId: $id) { totalCount } }`;
const LIST = `query($filter: DeletionRequestFilter, $first: Int, $after: String) { deletionRequests(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id requester } } } }`;
const SUBJECTS = `query($lineage: String!, $first: Int, $after: String) { datasetSubjects(lineage: $lineage, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id name knowledge } } } }`;
const VERIFY = `{ verifyEventChain { valid checkedEvents firstInvalidSeq problem } }`;
const PREVIEW = `query($lineage: String!, $to: Int!) { rollbackPreview(lineage: $lineage, toVersion: $to) { lineage toVersion rolledBackVersions reopenedRequestIds conflict } }`;
const LINEAGES = `query($first: Int, $after: String) { modelLineages(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { name baseModelId championVersion createdAt } } } }`;
const SEARCH = `query($lineage: String!, $search: String, $first: Int) { datasetSubjects(lineage: $lineage, search: $search, first: $first) { totalCount edges { node { id name knowledge } } } }`;
const EVENTS = `query($first: Int, $after: String, $entityType: String, $entityId: String) { eventLog(first: $first, after: $after, entityType: $entityType, entityId: $entityId) { totalCount pageInfo { hasNextPage endCursor } edges { node { seq type entityType entityId hash } } } }`;

const SECRET_NAME = 'Philippa Quxworthy-Zanzibar';

describe('control plane API (embedded Postgres, real app, recorded queue)', () => {
  let t: TestApp;
  let queue: RecordingQueue;
  let alice: GqlClient;
  let bob: GqlClient;
  let auditor: GqlClient;
  let keyCounter = 0;
  const key = () => `key-${++keyCounter}`;
  const submitInput = (overrides: Record<string, unknown> = {}) => ({ lineage: 'main', idempotencyKey: key(), legalBasis: 'GDPR Art. 17(1)(a)', subject: { datasetSubjectId: 's1' }, ...overrides });
  /** The outbox queues a stored request right after the answer: waits until it records QUEUED. */
  const queued = async (id: string, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = (await t.operator.ok(REQUEST, { id })).deletionRequest;
      if (r.status === 'QUEUED' || Date.now() > deadline) return r;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const counts = async () => {
    const [row] = await t.dataSource.query(`SELECT (SELECT count(*) FROM deletion_requests) AS requests, (SELECT count(*) FROM forget_sets) AS forget_sets, (SELECT count(*) FROM event_log) AS events, (SELECT count(*) FROM model_lineages) AS lineages, (SELECT count(*) FROM api_tokens) AS tokens`);
    return row;
  };

  before(async () => {
    queue = new RecordingQueue();
    t = await startTestApp({ orchestration: recordingQueueModule(queue) });
    const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), [
      { id: 's1', name: 'Ada Fictional', knowledge: 'FINETUNED' },
      { id: 's2', name: 'Bo Fictional', knowledge: 'FINETUNED' },
      { id: 's3', name: 'Cy Celebrity', knowledge: 'PRETRAINED' },
    ]);
    const model = writeModelDir(path.join(t.postgres.dir, 'model'));
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'main', baseModelPath: model, datasetPath: dataset } });
    const token = async (role: string, owner: string) => (await t.operator.ok(TOKEN, { role, owner })).createApiToken.token as string;
    alice = t.operator.withToken(await token('REQUESTER', 'alice'));
    bob = t.operator.withToken(await token('REQUESTER', 'bob'));
    auditor = t.operator.withToken(await token('AUDITOR', 'audit-office'));
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => t?.stop());

  it('the committed schema.gql is current (regenerate: node dist/test/support/write-schema.js)', () => {
    assert.equal(fs.readFileSync(SCHEMA_FILE, 'utf8'), printAppSchema(t.app), 'schema.gql is stale');
  });

  it('/healthz answers without a token', async () => {
    const response = await fetch(`${t.baseUrl}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  describe('submission', () => {
    it('stores a dataset-subject request with a 30-day deadline, answers, then queues it', async () => {
      const { submitDeletionRequest: r } = await alice.ok(SUBMIT, { input: submitInput() });
      assert.equal(r.status, 'RECEIVED', 'the answer comes once the request is stored');
      assert.equal(r.subjectName, 'Ada Fictional');
      assert.equal(r.requester, 'alice');
      assert.equal(Date.parse(r.dueAt) - Date.parse(r.createdAt), 30 * 24 * 3600 * 1000);
      assert.equal(r.events[0].type, 'request.received');
      assert.equal(r.events[0].actor, 'REQUESTER:alice');
      const after = await queued(r.id);
      assert.deepEqual(after.events.map((e: { type: string; data: { to?: string } }) => e.data.to ?? e.type), ['request.received', 'QUEUED']);
      assert.ok(queue.enqueued.some((e) => e.requestId === r.id && e.lineage === 'main'));
    });

    it('returns the same request for the same key and payload, CONFLICT for another payload', async () => {
      const input = submitInput({ subject: { profile: { name: 'Dee Person', images: [makePng(3, 3).toString('base64')], facts: [{ question: 'Where?', answer: 'Oslo' }] } } });
      const first = (await alice.ok(SUBMIT, { input })).submitDeletionRequest;
      assert.equal((await queued(first.id)).status, 'QUEUED');
      const before = await counts();
      const again = (await alice.ok(SUBMIT, { input })).submitDeletionRequest;
      assert.deepEqual([again.id, again.status], [first.id, 'QUEUED']);
      assert.deepEqual(await counts(), before, 'a retry stores nothing');
      assert.equal(queue.enqueued.filter((e) => e.requestId === first.id).length, 1);
      const conflict = await alice.fails(SUBMIT, { input: { ...input, legalBasis: 'GDPR Art. 17(1)(d)' } });
      assert.deepEqual([conflict.code, conflict.field], ['CONFLICT', 'input.idempotencyKey']);
      const bobs = (await bob.ok(SUBMIT, { input })).submitDeletionRequest;
      assert.notEqual(bobs.id, first.id, 'keys are per requester');
    });

    it('concurrent duplicates create one request', async () => {
      const input = submitInput({ subject: { datasetSubjectId: 's2' } });
      const results = await Promise.all(Array.from({ length: 12 }, () => alice.ok(SUBMIT, { input })));
      const ids = new Set(results.map((r) => r.submitDeletionRequest.id));
      assert.equal(ids.size, 1);
      const [id] = ids;
      assert.equal((await queued(id)).status, 'QUEUED');
      assert.equal(queue.enqueued.filter((e) => e.requestId === id).length, 1);
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM event_log WHERE entity_id = $1 AND type = 'request.received'`, [id]);
      assert.equal(n, 1);
    });

    it('a stored request waits out a failing queue and is queued once it answers, without a retry by the client', async () => {
      const input = submitInput();
      queue.failEnqueue = new Error('temporal unavailable');
      const stored = (await alice.ok(SUBMIT, { input })).submitDeletionRequest;
      assert.equal(stored.status, 'RECEIVED');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await alice.ok(REQUEST, { id: stored.id })).deletionRequest.status, 'RECEIVED', 'not QUEUED while the queue fails');
      queue.failEnqueue = null;
      const started = Date.now();
      assert.equal((await queued(stored.id)).status, 'QUEUED');
      assert.ok(Date.now() - started < 3000, 'queued within seconds of the queue answering');
      assert.equal(queue.enqueued.filter((e) => e.requestId === stored.id).length, 1);
    });

    it('a request canceled before it was queued is never queued', async () => {
      queue.failEnqueue = new Error('temporal unavailable');
      const { submitDeletionRequest: r } = await alice.ok(SUBMIT, { input: submitInput() });
      const canceled = (await alice.ok(CANCEL, { id: r.id, reason: 'filed by mistake' })).cancelDeletionRequest;
      assert.equal(canceled.status, 'CANCELED', 'canceled in the database alone, Temporal or not');
      queue.failEnqueue = null;
      const other = (await alice.ok(SUBMIT, { input: submitInput() })).submitDeletionRequest;
      assert.equal((await queued(other.id)).status, 'QUEUED');
      assert.ok(!queue.enqueued.some((e) => e.requestId === r.id));
      assert.ok(!queue.canceled.includes(r.id), 'nothing to remove from the workflow');
    });

    const bad: Array<[string, () => Record<string, unknown>, string, string | undefined]> = [
      ['no subject', () => submitInput({ subject: {} }), 'BAD_USER_INPUT', 'input.subject'],
      ['both subject kinds', () => submitInput({ subject: { datasetSubjectId: 's1', profile: { name: 'X', facts: [{ question: 'q', answer: 'a' }] } } }), 'BAD_USER_INPUT', 'input.subject'],
      ['unknown lineage', () => submitInput({ lineage: 'nope' }), 'NOT_FOUND', 'input.lineage'],
      ['unknown dataset subject', () => submitInput({ subject: { datasetSubjectId: 's404' } }), 'NOT_FOUND', 'input.subject.datasetSubjectId'],
      ['empty legal basis', () => submitInput({ legalBasis: '  ' }), 'BAD_USER_INPUT', 'input.legalBasis'],
      ['empty profile name', () => submitInput({ subject: { profile: { name: '', facts: [{ question: 'q', answer: 'a' }] } } }), 'BAD_USER_INPUT', 'input.subject.profile.name'],
      ['profile with nothing to forget', () => submitInput({ subject: { profile: { name: 'X' } } }), 'BAD_USER_INPUT', 'input.subject.profile'],
      ['not an image', () => submitInput({ subject: { profile: { name: 'X', images: [Buffer.from('GIF89a-not-allowed').toString('base64')] } } }), 'BAD_USER_INPUT', 'input.subject.profile.images[0]'],
      ['not base64', () => submitInput({ subject: { profile: { name: 'X', images: ['***'] } } }), 'BAD_USER_INPUT', 'input.subject.profile.images[0]'],
      ['truncated JPEG', () => submitInput({ subject: { profile: { name: 'X', images: [makeJpegHeader(10, 10).subarray(0, 12).toString('base64')] } } }), 'BAD_USER_INPUT', 'input.subject.profile.images[0]'],
      ['image over 5 MB', () => submitInput({ subject: { profile: { name: 'X', images: [Buffer.concat([makePng(2, 2), Buffer.alloc(5 * 1024 * 1024)]).toString('base64')] } } }), 'PAYLOAD_TOO_LARGE', 'input.subject.profile.images[0]'],
      ['eleven images', () => submitInput({ subject: { profile: { name: 'X', images: Array(11).fill(makePng(2, 2).toString('base64')) } } }), 'PAYLOAD_TOO_LARGE', 'input.subject.profile.images'],
      ['bad fact', () => submitInput({ subject: { profile: { name: 'X', facts: [{ question: 'q', answer: ' ' }] } } }), 'BAD_USER_INPUT', 'input.subject.profile.facts[0].answer'],
    ];
    for (const [name, input, code, field] of bad) {
      it(`${name}: ${code}${field ? ` naming ${field}` : ''}, nothing stored`, async () => {
        const before = await counts();
        const enqueued = queue.enqueued.length;
        const error = await alice.fails(SUBMIT, { input: input() });
        assert.deepEqual([error.code, error.field], [code, field]);
        assert.deepEqual(await counts(), before);
        assert.equal(queue.enqueued.length, enqueued);
      });
    }

    it('a GraphQL type error is BAD_USER_INPUT and stores nothing', async () => {
      const before = await counts();
      const error = await alice.fails(SUBMIT, { input: { lineage: 'main' } });
      assert.equal(error.code, 'BAD_USER_INPUT');
      assert.deepEqual(await counts(), before);
    });

    it('a body over the limit is PAYLOAD_TOO_LARGE', async () => {
      const response = await fetch(`${t.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
        body: JSON.stringify({ query: SUBMIT, variables: { input: submitInput({ note: 'x'.repeat(81 * 1024 * 1024) }) } }),
      });
      assert.equal(response.status, 413);
      const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
      assert.equal(body.errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');
    });
  });

  describe('encryption at rest', () => {
    it('the raw database files never contain the submitted name, the API still shows it', async () => {
      const input = submitInput({ note: 'called on Tuesday', subject: { profile: { name: SECRET_NAME, facts: [{ question: 'Job?', answer: 'Astronomer' }] } } });
      const { submitDeletionRequest: r } = await alice.ok(SUBMIT, { input });
      const read = (await alice.ok(REQUEST, { id: r.id })).deletionRequest;
      assert.deepEqual([read.subjectName, read.note], [SECRET_NAME, 'called on Tuesday']);
      await adminQuery(t.postgres.adminUrl, 'CHECKPOINT'); // the app's role may not force a checkpoint
      const dataDir = path.join(t.postgres.dir, 'postgres');
      // grep -r over every data and WAL file; exit code 1 = not found.
      const found = (() => {
        try {
          return execFileSync('grep', ['-rl', '--binary-files=text', SECRET_NAME, dataDir], { encoding: 'utf8' });
        } catch (err) {
          if ((err as { status?: number }).status === 1) return '';
          throw err;
        }
      })();
      assert.equal(found, '', `plain name found in ${found}`);
      const [row] = await t.dataSource.query(`SELECT ciphertext FROM forget_sets WHERE request_id = $1`, [r.id]);
      assert.ok(!Buffer.from(row.ciphertext).includes(Buffer.from('Astronomer')));
    });
  });

  describe('cancel and review', () => {
    it('a requester cancels its own queued request; twice is a CONFLICT', async () => {
      const { submitDeletionRequest: r } = await alice.ok(SUBMIT, { input: submitInput() });
      await queued(r.id);
      assert.equal((await bob.fails(CANCEL, { id: r.id, reason: 'not mine' })).code, 'FORBIDDEN');
      const canceled = (await alice.ok(CANCEL, { id: r.id, reason: 'filed by mistake' })).cancelDeletionRequest;
      assert.equal(canceled.status, 'CANCELED');
      assert.ok(queue.canceled.includes(r.id));
      const again = await alice.fails(CANCEL, { id: r.id, reason: 'again' });
      assert.deepEqual([again.code, again.field], ['CONFLICT', 'id']);
      const events = (await alice.ok(REQUEST, { id: r.id })).deletionRequest.events;
      assert.equal(events.find((e: { data: { to?: string } }) => e.data?.to === 'CANCELED').reason, 'filed by mistake');
    });

    it('a canceled request\'s personal data is purged at once, an event in the chain', async () => {
      const profile = { name: SECRET_NAME, images: [makePng(3, 3).toString('base64')], facts: [{ question: 'Where does she live?', answer: 'Tromsø' }] };
      const { submitDeletionRequest: r } = await alice.ok(SUBMIT, { input: { ...submitInput({ subject: { profile } }), note: 'call me' } });
      await alice.ok(CANCEL, { id: r.id, reason: 'changed my mind' });
      const [row] = await t.dataSource.query(`SELECT ciphertext, purged_at, digest FROM forget_sets WHERE request_id = $1`, [r.id]);
      assert.equal(row.ciphertext, null);
      assert.ok(row.purged_at);
      assert.ok(row.digest, 'the digest stays as evidence of what was held');
      const after = (await t.operator.ok(REQUEST, { id: r.id })).deletionRequest;
      assert.deepEqual([after.status, after.subjectName, after.note], ['CANCELED', null, null]);
      const types = after.events.map((e: { type: string }) => e.type);
      assert.deepEqual(types.slice(-2), ['request.status_changed', 'forget_set.purged']);
      assert.equal(after.events.at(-1).reason, 'retention: request CANCELED');
      assert.equal((await t.operator.ok(VERIFY)).verifyEventChain.valid, true);
    });

    it('cannot cancel once the workflow started it', async () => {
      const { submitDeletionRequest: r } = await alice.ok(SUBMIT, { input: submitInput() });
      await queued(r.id);
      queue.started.add(r.id);
      assert.equal((await alice.fails(CANCEL, { id: r.id, reason: 'late' })).code, 'CONFLICT');
      assert.equal((await alice.ok(REQUEST, { id: r.id })).deletionRequest.status, 'QUEUED');
    });

    it('review needs NEEDS_REVIEW and goes to the workflow', async () => {
      const { submitDeletionRequest: r } = await alice.ok(SUBMIT, { input: submitInput() });
      assert.equal((await t.operator.fails(REVIEW, { id: r.id, decision: 'APPROVE', reason: 'ok' })).code, 'CONFLICT');
      const lifecycle = t.app.get(RequestLifecycle);
      for (const to of ['UNLEARNING', 'AUDITING', 'NEEDS_REVIEW'] as const) await lifecycle.transitionNow(r.id, to, { actor: 'workflow', reason: 'test' });
      await t.operator.ok(REVIEW, { id: r.id, decision: 'REJECT', reason: 'too much damage' });
      assert.deepEqual(queue.reviews.at(-1), { requestId: r.id, decision: 'REJECT', reason: 'too much damage', actor: 'OPERATOR:bootstrap-operator' });
    });

    it('unknown ids are NOT_FOUND', async () => {
      assert.equal((await t.operator.fails(REQUEST, { id: '00000000-0000-4000-8000-000000000000' })).code, 'NOT_FOUND');
      assert.equal((await t.operator.fails(REQUEST, { id: 'garbage' })).code, 'NOT_FOUND');
    });
  });

  describe('versions: promote, rollback, reopen (services the workflow activities call)', () => {
    it('promotion completes the requests; rollback reopens the ones it undid', async () => {
      const versions = t.app.get(ModelVersionsService);
      const lifecycle = t.app.get(RequestLifecycle);
      const outcomes = t.app.get(RequestOutcomes);
      const carryOut = async (subject: string, parent: number) => {
        const { submitDeletionRequest: r } = await alice.ok(SUBMIT, { input: submitInput({ lineage: 'main', subject: { datasetSubjectId: subject } }) });
        await lifecycle.transitionNow(r.id, 'UNLEARNING', { actor: 'workflow' });
        const candidate = await versions.createCandidate({ lineage: 'main', parentNumber: parent, adapterUri: `/artifacts/${r.id}`, adapterSha256: 'a'.repeat(64), method: 'ga_klr', hyperParameters: { learningRate: 1e-4 }, requestIds: [r.id], actor: 'workflow' });
        await lifecycle.transitionNow(r.id, 'AUDITING', { actor: 'workflow' });
        await versions.recordAudit({ lineage: 'main', versionNumber: candidate.number, requestIds: [r.id], attempt: 1, metrics: { forget: 0.25 }, decision: 'PASS', reasons: [], actor: 'workflow' });
        await outcomes.promote('main', candidate.number, 'workflow', 'gate passed');
        return { id: r.id as string, version: candidate.number };
      };
      const first = await carryOut('s1', 0);
      const second = await carryOut('s3', first.version);
      const done = (await alice.ok(REQUEST, { id: first.id })).deletionRequest;
      assert.equal(done.status, 'COMPLETED');
      assert.equal(done.modelVersion.number, first.version);
      let lineage = (await auditor.ok(LINEAGE, { name: 'main' })).modelLineage;
      assert.equal(lineage.championVersion, second.version);
      assert.deepEqual(lineage.versions.map((v: { status: string }) => v.status), ['SUPERSEDED', 'SUPERSEDED', 'PROMOTED']);

      const badTarget = await t.operator.fails(ROLLBACK, { lineage: 'main', to: second.version, reason: 'x' });
      assert.deepEqual([badTarget.code, badTarget.field], ['BAD_USER_INPUT', 'toVersion']);
      const badPreview = await t.operator.fails(PREVIEW, { lineage: 'main', to: second.version });
      assert.deepEqual([badPreview.code, badPreview.field, badPreview.message], [badTarget.code, badTarget.field, badTarget.message], 'the preview refuses what the rollback refuses');
      assert.equal((await t.operator.fails(PREVIEW, { lineage: 'nope', to: 0 })).code, 'NOT_FOUND');
      const preview = (await t.operator.ok(PREVIEW, { lineage: 'main', to: first.version })).rollbackPreview;
      assert.deepEqual(preview, { lineage: 'main', toVersion: first.version, rolledBackVersions: [second.version], reopenedRequestIds: [second.id], conflict: null });
      await t.operator.ok(ROLLBACK, { lineage: 'main', to: first.version, reason: 'regression in general accuracy' });
      assert.deepEqual(queue.rollbacks.at(-1), { lineage: 'main', toVersion: first.version, reason: 'regression in general accuracy', actor: 'OPERATOR:bootstrap-operator' });

      // What the workflow's rollback activity does:
      const reopened = await outcomes.rollback('main', first.version, 'regression in general accuracy', 'OPERATOR:bootstrap-operator');
      assert.deepEqual(reopened, preview.reopenedRequestIds, 'the rollback reopened what the preview named');
      lineage = (await auditor.ok(LINEAGE, { name: 'main' })).modelLineage;
      assert.equal(lineage.championVersion, first.version);
      assert.deepEqual(lineage.versions.map((v: { status: string }) => v.status), ['SUPERSEDED', 'PROMOTED', 'ROLLED_BACK']);
      assert.equal((await alice.ok(REQUEST, { id: second.id })).deletionRequest.status, 'REOPENED');
      assert.equal((await alice.ok(REQUEST, { id: first.id })).deletionRequest.status, 'COMPLETED');
      const forgotten = await t.app.get(RequestLifecycle).inLineage('main', ['COMPLETED']);
      assert.deepEqual(forgotten.map((r) => r.datasetSubjectId), ['s1']);
    });

    it('gate policy updates are validated and versioned', async () => {
      const updated = (await t.operator.ok(GATE, { lineage: 'main', policy: { retain: { minFractionOfBaseline: 0.8 } } })).updateGatePolicy;
      assert.equal(updated.gatePolicyVersion, 2);
      assert.equal(updated.gatePolicy.retain.minFractionOfBaseline, 0.8);
      const bad = await t.operator.fails(GATE, { lineage: 'main', policy: { retain: { minFractionOfBaseline: 3 } } });
      assert.deepEqual([bad.code, bad.field], ['BAD_USER_INPUT', 'gatePolicy.retain.minFractionOfBaseline']);
      const badLora = await t.operator.fails(CREATE_LINEAGE, { input: { name: 'other', lora: { rank: 0 } } });
      assert.equal(badLora.code, 'BAD_USER_INPUT');
      const badFloor = await t.operator.fails(CREATE_LINEAGE, { input: { name: 'other', baseModelPath: path.join(t.postgres.dir, 'model'), datasetPath: path.join(t.postgres.dir, 'dataset'), hyperParameters: { ascentFloor: 1 } } });
      assert.deepEqual([badFloor.code, badFloor.field], ['BAD_USER_INPUT', 'input.hyperParameters.ascentFloor']);
      const badReference = await t.operator.fails(CREATE_LINEAGE, { input: { name: 'other', baseModelPath: path.join(t.postgres.dir, 'model'), datasetPath: path.join(t.postgres.dir, 'dataset'), experimental: { klReference: 'parent' } } });
      assert.deepEqual([badReference.code, badReference.field], ['BAD_USER_INPUT', 'input.experimental.klReference']);
      const badObjective = await t.operator.fails(CREATE_LINEAGE, { input: { name: 'other', baseModelPath: path.join(t.postgres.dir, 'model'), datasetPath: path.join(t.postgres.dir, 'dataset'), experimental: { ascentObjective: 'odds' } } });
      assert.deepEqual([badObjective.code, badObjective.field], ['BAD_USER_INPUT', 'input.experimental.ascentObjective']);
      assert.match(badObjective.message, /logProb, logOdds/);
      const badHold = await t.operator.fails(CREATE_LINEAGE, { input: { name: 'other', baseModelPath: path.join(t.postgres.dir, 'model'), datasetPath: path.join(t.postgres.dir, 'dataset'), hyperParameters: { holdForgottenWeight: -1 } } });
      assert.deepEqual([badHold.code, badHold.field], ['BAD_USER_INPUT', 'input.hyperParameters.holdForgottenWeight']);
      const badGeneral = await t.operator.fails(CREATE_LINEAGE, { input: { name: 'other', baseModelPath: path.join(t.postgres.dir, 'model'), datasetPath: path.join(t.postgres.dir, 'dataset'), hyperParameters: { generalKlWeight: -0.5 } } });
      assert.deepEqual([badGeneral.code, badGeneral.field], ['BAD_USER_INPUT', 'input.hyperParameters.generalKlWeight']);
      // This dataset has no general training questions, so a general KL could not run on it.
      const noGeneral = await t.operator.fails(CREATE_LINEAGE, { input: { name: 'other', baseModelPath: path.join(t.postgres.dir, 'model'), datasetPath: path.join(t.postgres.dir, 'dataset'), hyperParameters: { generalKlWeight: 1 } } });
      assert.deepEqual([noGeneral.code, noGeneral.field], ['BAD_USER_INPUT', 'input.hyperParameters.generalKlWeight']);
      assert.match(noGeneral.message, /lethe\/train\/general\.jsonl/);
    });
  });

  describe('lineage settings', () => {
    const READ_REFORGET = `query($name: String!) { modelLineage(name: $name) { name reforgetPasses } }`;
    const CREATE_REFORGET = `mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name reforgetPasses } }`;
    const lineageInput = (name: string, extra: Record<string, unknown> = {}) => ({ name, baseModelPath: path.join(t.postgres.dir, 'model'), datasetPath: path.join(t.postgres.dir, 'dataset'), ...extra });
    const createdEvent = async (name: string) => {
      const rows: Array<{ data: Record<string, unknown> }> = await t.dataSource.query(`SELECT data FROM event_log WHERE type = 'lineage.created' AND entity_id = $1`, [name]);
      assert.equal(rows.length, 1);
      return rows[0].data;
    };

    it('the general KL is on by default where the dataset has general training questions, off where it has none; a given value wins', async () => {
      const READ_HYPER = `query($name: String!) { modelLineage(name: $name) { hyperParameters } }`;
      const withGeneral = path.join(t.postgres.dir, 'dataset-general');
      fs.cpSync(path.join(t.postgres.dir, 'dataset'), withGeneral, { recursive: true });
      fs.mkdirSync(path.join(withGeneral, 'lethe', 'train'), { recursive: true });
      fs.writeFileSync(path.join(withGeneral, 'lethe', 'train', 'general.jsonl'), JSON.stringify({ question: 'How many birds are there?', answer: 'B', image: null }) + '\n');
      const hyper = async (name: string, extra: Record<string, unknown>) => {
        await t.operator.ok(CREATE_REFORGET, { input: lineageInput(name, extra) });
        return (await t.operator.ok(READ_HYPER, { name })).modelLineage.hyperParameters;
      };
      assert.equal((await hyper('general-default', { datasetPath: withGeneral })).generalKlWeight, 1);
      const merged = await hyper('general-merged', { datasetPath: withGeneral, hyperParameters: { learningRate: 2e-3 } });
      assert.deepEqual([merged.learningRate, merged.generalKlWeight], [2e-3, 1]);
      assert.equal((await hyper('general-off', { datasetPath: withGeneral, hyperParameters: { generalKlWeight: 0 } })).generalKlWeight, 0);
      assert.equal((await hyper('general-none', {})).generalKlWeight, undefined);
    });

    it('reforgetPasses is stored, read back and logged; it defaults to 3', async () => {
      const created = (await t.operator.ok(CREATE_REFORGET, { input: lineageInput('reforget-two', { reforgetPasses: 2 }) })).createModelLineage;
      assert.deepEqual(created, { name: 'reforget-two', reforgetPasses: 2 });
      assert.equal((await t.operator.ok(READ_REFORGET, { name: 'reforget-two' })).modelLineage.reforgetPasses, 2);
      const [row] = await t.dataSource.query(`SELECT reforget_passes FROM model_lineages WHERE name = 'reforget-two'`);
      assert.equal(row.reforget_passes, 2);
      assert.equal((await createdEvent('reforget-two')).reforgetPasses, 2);

      const defaulted = (await t.operator.ok(CREATE_REFORGET, { input: lineageInput('reforget-default') })).createModelLineage;
      assert.equal(defaulted.reforgetPasses, 3);
      assert.equal((await t.operator.ok(READ_REFORGET, { name: 'reforget-default' })).modelLineage.reforgetPasses, 3);
      assert.equal((await createdEvent('reforget-default')).reforgetPasses, 3);

      const explicitNull = (await t.operator.ok(CREATE_REFORGET, { input: lineageInput('reforget-null', { reforgetPasses: null }) })).createModelLineage;
      assert.equal(explicitNull.reforgetPasses, 3);
      const max = (await t.operator.ok(CREATE_REFORGET, { input: lineageInput('reforget-max', { reforgetPasses: 5 }) })).createModelLineage;
      assert.equal(max.reforgetPasses, 5);
    });

    it('reforgetAboveAccuracy is stored, read back and logged; it defaults to 0.2', async () => {
      const READ_ABOVE = `query($name: String!) { modelLineage(name: $name) { reforgetAboveAccuracy } }`;
      const CREATE_ABOVE = `mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name reforgetAboveAccuracy } }`;
      const created = (await t.operator.ok(CREATE_ABOVE, { input: lineageInput('above-goal', { reforgetAboveAccuracy: 0.4 }) })).createModelLineage;
      assert.deepEqual(created, { name: 'above-goal', reforgetAboveAccuracy: 0.4 });
      assert.equal((await t.operator.ok(READ_ABOVE, { name: 'above-goal' })).modelLineage.reforgetAboveAccuracy, 0.4);
      assert.equal((await createdEvent('above-goal')).reforgetAboveAccuracy, 0.4);
      assert.equal((await t.operator.ok(CREATE_ABOVE, { input: lineageInput('above-default') })).createModelLineage.reforgetAboveAccuracy, 0.2);
      assert.equal((await t.operator.ok(CREATE_ABOVE, { input: lineageInput('above-zero', { reforgetAboveAccuracy: 0 }) })).createModelLineage.reforgetAboveAccuracy, 0);
    });

    for (const value of [-0.1, 1]) {
      it(`reforgetAboveAccuracy ${value}: BAD_USER_INPUT naming input.reforgetAboveAccuracy, nothing stored`, async () => {
        const name = `above-bad-${String(value).replace('.', '').replace('-', 'minus')}`;
        const before = await counts();
        const error = await t.operator.fails(CREATE_REFORGET, { input: lineageInput(name, { reforgetAboveAccuracy: value }) });
        assert.deepEqual([error.code, error.field], ['BAD_USER_INPUT', 'input.reforgetAboveAccuracy']);
        assert.match(error.message, /from 0 up to \(not including\) 1/);
        assert.deepEqual(await counts(), before);
        assert.equal((await t.dataSource.query(`SELECT 1 FROM model_lineages WHERE name = $1`, [name])).length, 0);
      });
    }

    for (const value of [-1, 6]) {
      it(`reforgetPasses ${value}: BAD_USER_INPUT naming input.reforgetPasses, nothing stored`, async () => {
        const name = `reforget-bad${value}`.replace('-1', 'minus1');
        const before = await counts();
        const error = await t.operator.fails(CREATE_REFORGET, { input: lineageInput(name, { reforgetPasses: value }) });
        assert.deepEqual([error.code, error.field], ['BAD_USER_INPUT', 'input.reforgetPasses']);
        assert.match(error.message, /input\.reforgetPasses/);
        assert.match(error.message, /integer from 0 to 5/);
        assert.deepEqual(await counts(), before);
        assert.equal((await t.dataSource.query(`SELECT 1 FROM model_lineages WHERE name = $1`, [name])).length, 0);
      });
    }
  });

  describe('unlearning settings: defaults per method, experimental knobs, upper bounds', () => {
    const READ_SETTINGS = `query($name: String!) { modelLineage(name: $name) { method hyperParameters lora } }`;
    const settingsInput = (name: string, extra: Record<string, unknown> = {}) => ({ name, baseModelPath: path.join(t.postgres.dir, 'model'), datasetPath: path.join(t.postgres.dir, 'dataset'), ...extra });
    const settingsOf = async (name: string, extra: Record<string, unknown> = {}) => {
      await t.operator.ok(CREATE_LINEAGE, { input: settingsInput(name, extra) });
      return (await t.operator.ok(READ_SETTINGS, { name })).modelLineage;
    };

    it('a lineage without a method gets ga_klr and its defaults; one created with npo gets npo\'s', async () => {
      const standard = await settingsOf('settings-default');
      assert.equal(standard.method, 'ga_klr');
      assert.deepEqual(standard.hyperParameters, { learningRate: 0.001, epochs: 12, batchSize: 4, ascentFloor: 0.05, klReference: 'base', holdForgottenWeight: 1 });
      assert.deepEqual(standard.lora, { rank: 8, alpha: 16, dropout: 0, targets: 'projector+llm' });
      const npo = await settingsOf('settings-npo', { method: 'npo', hyperParameters: { epochs: 3 }, lora: { rank: 4 } });
      assert.equal(npo.method, 'npo');
      assert.deepEqual(npo.hyperParameters, { learningRate: 0.001, epochs: 3, batchSize: 8, npoBeta: 0.1 });
      assert.deepEqual(npo.lora, { rank: 4, alpha: 16, dropout: 0, targets: 'projector+llm' });
    });

    it('research knobs go through `experimental` only', async () => {
      const research = await settingsOf('settings-research', { experimental: { maxSteps: 2, ascentObjective: 'logOdds', klReference: 'start' } });
      assert.deepEqual([research.hyperParameters.maxSteps, research.hyperParameters.ascentObjective, research.hyperParameters.klReference], [2, 'logOdds', 'start']);
      const unknown = await t.operator.fails(CREATE_LINEAGE, { input: settingsInput('settings-unknown', { experimental: { epochs: 3 } }) });
      assert.deepEqual([unknown.code, unknown.field], ['BAD_USER_INPUT', 'input.experimental.epochs']);
      const notPublic = await t.operator.fails(CREATE_LINEAGE, { input: settingsInput('settings-not-public', { hyperParameters: { maxSteps: 2 } }) });
      assert.equal(notPublic.code, 'BAD_USER_INPUT');
      assert.match(notPublic.message, /maxSteps/);
    });

    const tooLarge: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ['epochs', { hyperParameters: { epochs: 101 } }, 'input.hyperParameters.epochs', /integer from 1 to 100/],
      ['batch size', { hyperParameters: { batchSize: 100000 } }, 'input.hyperParameters.batchSize', /integer from 1 to 256/],
      ['learning rate', { hyperParameters: { learningRate: 5 } }, 'input.hyperParameters.learningRate', /above 0 and at most 1/],
      ['NPO beta', { method: 'npo', hyperParameters: { npoBeta: 1e6 } }, 'input.hyperParameters.npoBeta', /at most 100/],
      ['KL weight', { hyperParameters: { klWeight: 101 } }, 'input.hyperParameters.klWeight', /from 0 to 100/],
      ['retain weight', { hyperParameters: { retainWeight: 1e9 } }, 'input.hyperParameters.retainWeight', /from 0 to 100/],
      ['hold weight', { hyperParameters: { holdForgottenWeight: 1000 } }, 'input.hyperParameters.holdForgottenWeight', /from 0 to 100/],
      ['steps', { experimental: { maxSteps: 1e9 } }, 'input.experimental.maxSteps', /integer from 1 to 100000/],
      ['LoRA rank', { lora: { rank: 512 } }, 'input.lora.rank', /integer from 1 to 256/],
      ['LoRA alpha', { lora: { alpha: 1e6 } }, 'input.lora.alpha', /at most 1024/],
      ['LoRA dropout', { lora: { dropout: 0.95 } }, 'input.lora.dropout', /from 0 to 0.9/],
      ['LoRA targets', { lora: { targets: 'everything' } }, 'input.lora.targets', /llm, projector\+llm/],
    ];
    for (const [what, extra, field, message] of tooLarge) {
      it(`${what} above its bound: BAD_USER_INPUT naming ${field}, nothing stored`, async () => {
        const before = await counts();
        const error = await t.operator.fails(CREATE_LINEAGE, { input: settingsInput(`bound-${field.replace(/\W/g, '-').toLowerCase()}`, extra) });
        assert.deepEqual([error.code, error.field], ['BAD_USER_INPUT', field]);
        assert.match(error.message, message);
        assert.deepEqual(await counts(), before);
      });
    }

    it('the largest allowed values are accepted', async () => {
      const max = await settingsOf('settings-max', { hyperParameters: { epochs: 100, batchSize: 256, learningRate: 1 }, lora: { rank: 256 }, experimental: { maxSteps: 100000 } });
      assert.deepEqual([max.hyperParameters.epochs, max.hyperParameters.batchSize, max.hyperParameters.learningRate, max.hyperParameters.maxSteps, max.lora.rank], [100, 256, 1, 100000, 256]);
    });
  });

  describe('reads and pagination', () => {
    it('a requester lists only its own requests; pages chain by cursor', async () => {
      const own = (await bob.ok(LIST, { first: 100 })).deletionRequests;
      assert.ok(own.totalCount >= 1);
      assert.ok(own.edges.every((e: { node: { requester: string } }) => e.node.requester === 'bob'));
      assert.equal((await bob.fails(LIST, { filter: { requester: 'alice' } })).code, 'FORBIDDEN');
      const all = (await auditor.ok(LIST, { first: 100 })).deletionRequests;
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page: any = (await auditor.ok(LIST, { first: 3, after })).deletionRequests;
        assert.equal(page.totalCount, all.totalCount);
        seen.push(...page.edges.map((e: { node: { id: string } }) => e.node.id));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      assert.deepEqual(seen, all.edges.map((e: { node: { id: string } }) => e.node.id));
      assert.equal((await auditor.fails(LIST, { first: 0 })).field, 'first');
      assert.equal((await auditor.fails(LIST, { after: 'bogus' })).field, 'after');
    });

    it('dataset subjects page by id', async () => {
      const first = (await auditor.ok(SUBJECTS, { lineage: 'main', first: 2 })).datasetSubjects;
      assert.equal(first.totalCount, 3);
      assert.deepEqual(first.edges.map((e: { node: { id: string } }) => e.node.id), ['s1', 's2']);
      const rest = (await auditor.ok(SUBJECTS, { lineage: 'main', first: 2, after: first.pageInfo.endCursor })).datasetSubjects;
      assert.deepEqual(rest.edges.map((e: { node: { id: string; knowledge: string } }) => [e.node.id, e.node.knowledge]), [['s3', 'PRETRAINED']]);
      assert.equal(rest.pageInfo.hasNextPage, false);
    });

    it('modelLineages pages by name; a REQUESTER gets the names only', async () => {
      const all = (await auditor.ok(LINEAGES, { first: 100 })).modelLineages;
      const names = all.edges.map((e: { node: { name: string } }) => e.node.name);
      assert.deepEqual(names, [...names].sort());
      assert.ok(names.includes('main'));
      assert.equal(all.totalCount, names.length);
      const main = all.edges.find((e: { node: { name: string } }) => e.node.name === 'main').node;
      assert.equal(main.baseModelId, 'model');
      assert.equal(typeof main.championVersion, 'number');
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page: any = (await alice.ok(LINEAGES, { first: 1, after })).modelLineages;
        for (const { node } of page.edges) {
          assert.deepEqual([node.baseModelId, node.championVersion, node.createdAt], [null, null, null], 'nothing of the model for a REQUESTER');
          seen.push(node.name);
        }
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      assert.deepEqual(seen, names);
      assert.equal((await alice.fails(LINEAGES, { first: 101 })).field, 'first');
      assert.equal((await alice.fails(LINEAGES, { after: 'bogus' })).field, 'after');
    });

    it('a REQUESTER searches the dataset\'s people by name or id (never lists them, never NEVER_SEEN people); AUDITORs list and search all', async () => {
      const search = async (c: GqlClient, vars: Record<string, unknown>) => (await c.ok(SEARCH, { lineage: 'search', ...vars })).datasetSubjects;
      const ids = (page: { edges: { node: { id: string } }[] }) => page.edges.map((e) => e.node.id);
      const dataset = writeDataset(path.join(t.postgres.dir, 'dataset-search'), [
        { id: 'p01', name: 'Ada Fictional', knowledge: 'FINETUNED' },
        { id: 'p02', name: 'Adam Pretrained', knowledge: 'PRETRAINED' },
        { id: 'p03', name: 'Adele Never', knowledge: 'NEVER_SEEN' },
        { id: 'p04', name: '100%_real', knowledge: 'FINETUNED' },
        ...Array.from({ length: 25 }, (_, i) => ({ id: `q${String(i).padStart(2, '0')}`, name: `Quinn Number ${i}`, knowledge: 'FINETUNED' as const })),
      ]);
      await t.operator.ok(CREATE_LINEAGE, { input: { name: 'search', baseModelPath: path.join(t.postgres.dir, 'model'), datasetPath: dataset } });
      const found = await search(alice, { search: 'ada' });
      assert.deepEqual(ids(found), ['p01', 'p02'], 'any case, id order, the NEVER_SEEN Adele left out');
      assert.equal(found.totalCount, 2);
      assert.deepEqual(ids(await search(auditor, { search: 'ADE' })), ['p03'], 'an AUDITOR finds NEVER_SEEN people too');
      assert.deepEqual(ids(await search(alice, { search: 'p04' })), ['p04'], 'matches ids');
      assert.deepEqual(ids(await search(alice, { search: '0%' })), ['p04'], '% is a character, not a wildcard');
      assert.deepEqual(ids(await search(alice, { search: '%_' })), ['p04']);
      const many = await search(alice, { search: 'quinn', first: 20 });
      assert.deepEqual([many.edges.length, many.totalCount], [20, 25]);
      assert.equal((await search(auditor, {})).totalCount, 29, 'AUDITORs list everyone');
      for (const [vars, field] of [[{}, 'search'], [{ search: ' a ' }, 'search'], [{ search: 'quinn', first: 21 }, 'first']] as const) {
        const refused = await alice.fails(SEARCH, { lineage: 'search', ...vars });
        assert.deepEqual([refused.code, refused.field], ['BAD_USER_INPUT', field], JSON.stringify(vars));
      }
      assert.equal((await alice.fails(SEARCH, { lineage: 'nope', search: 'ada' })).code, 'NOT_FOUND');
      assert.equal((await auditor.fails(SEARCH, { lineage: 'search', search: 'a'.repeat(201) })).field, 'search');
    });

    it('eventLog pages the whole log newest first, narrowed by entity type or entity', async () => {
      const whole = (await auditor.ok(EVENTS, { first: 100 })).eventLog;
      const seqs = whole.edges.map((e: { node: { seq: string } }) => Number(e.node.seq));
      assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a));
      const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM event_log');
      assert.equal(whole.totalCount, n);
      assert.ok(new Set(whole.edges.map((e: { node: { entityType: string } }) => e.node.entityType)).size > 1, 'not only requests');
      const paged: number[] = [];
      let after: string | null = null;
      for (let i = 0; i < 3; i++) {
        const page: any = (await t.operator.ok(EVENTS, { first: 4, after })).eventLog;
        paged.push(...page.edges.map((e: { node: { seq: string } }) => Number(e.node.seq)));
        after = page.pageInfo.endCursor;
      }
      assert.deepEqual(paged, seqs.slice(0, 12));
      const tokens = (await auditor.ok(EVENTS, { entityType: 'token', first: 100 })).eventLog;
      assert.ok(tokens.totalCount >= 3);
      assert.ok(tokens.edges.every((e: { node: { entityType: string } }) => e.node.entityType === 'token'));
      const lineage = (await auditor.ok(EVENTS, { entityType: 'lineage', entityId: 'main' })).eventLog;
      assert.ok(lineage.edges.some((e: { node: { type: string } }) => e.node.type === 'lineage.created'));
      assert.ok(lineage.edges.every((e: { node: { entityId: string } }) => e.node.entityId === 'main'));
      const refused = await auditor.fails(EVENTS, { entityType: 'person' });
      assert.deepEqual([refused.code, refused.field], ['BAD_USER_INPUT', 'entityType']);
      assert.equal((await auditor.fails(EVENTS, { after: 'bogus' })).field, 'after');
    });
  });

  describe('authorisation of every operation by every role', () => {
    const DENIED = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);
    type Client = 'anonymous' | 'requester' | 'auditor' | 'operator';
    const operations: Array<{ name: string; allowed: Client[]; run: (c: GqlClient, i: number) => Promise<{ errors?: Array<{ extensions?: { code?: string } }> }> }> = [
      { name: 'submitDeletionRequest', allowed: ['requester', 'operator'], run: (c) => c.request(SUBMIT, { input: submitInput() }) },
      { name: 'cancelDeletionRequest', allowed: ['requester', 'operator'], run: async (c) => {
        const { submitDeletionRequest: r } = await alice.ok(SUBMIT, { input: submitInput() });
        return c.request(CANCEL, { id: r.id, reason: 'withdrawn' });
      } },
      { name: 'reviewDeletionRequest', allowed: ['operator'], run: async (c) => {
        const { submitDeletionRequest: r } = await alice.ok(SUBMIT, { input: submitInput() });
        const lifecycle = t.app.get(RequestLifecycle);
        for (const to of ['UNLEARNING', 'AUDITING', 'NEEDS_REVIEW'] as const) await lifecycle.transitionNow(r.id, to, { actor: 'workflow' });
        return c.request(REVIEW, { id: r.id, decision: 'APPROVE', reason: 'fine' });
      } },
      { name: 'rollbackModel', allowed: ['operator'], run: (c) => c.request(ROLLBACK, { lineage: 'main', to: 0, reason: 'drill' }) },
      { name: 'createModelLineage', allowed: ['operator'], run: (c, i) => c.request(CREATE_LINEAGE, { input: { name: `auth-${i}`, baseModelPath: path.join(t.postgres.dir, 'model'), datasetPath: path.join(t.postgres.dir, 'dataset') } }) },
      { name: 'updateGatePolicy', allowed: ['operator'], run: (c) => c.request(GATE, { lineage: 'main', policy: {} }) },
      { name: 'createApiToken', allowed: ['operator'], run: (c) => c.request(TOKEN, { role: 'REQUESTER', owner: 'carol' }) },
      { name: 'deletionRequest', allowed: ['requester', 'auditor', 'operator'], run: async (c) => {
        const { submitDeletionRequest: r } = await alice.ok(SUBMIT, { input: submitInput() });
        return c.request(REQUEST, { id: r.id });
      } },
      { name: 'deletionRequests', allowed: ['requester', 'auditor', 'operator'], run: (c) => c.request(LIST, { first: 1 }) },
      { name: 'datasetSubjects', allowed: ['requester', 'auditor', 'operator'], run: (c) => c.request(SEARCH, { lineage: 'main', search: 'Fictional' }) },
      { name: 'modelLineages', allowed: ['requester', 'auditor', 'operator'], run: (c) => c.request(LINEAGES, { first: 5 }) },
      { name: 'rollbackPreview', allowed: ['operator'], run: (c) => c.request(PREVIEW, { lineage: 'main', to: 0 }) },
      { name: 'eventLog', allowed: ['auditor', 'operator'], run: (c) => c.request(EVENTS, { first: 5 }) },
      { name: 'modelLineage', allowed: ['auditor', 'operator'], run: (c) => c.request(LINEAGE, { name: 'main' }) },
      { name: 'verifyEventChain', allowed: ['auditor', 'operator'], run: (c) => c.request(VERIFY) },
      { name: 'viewer', allowed: ['requester', 'auditor', 'operator'], run: (c) => c.request('{ viewer { role owner } }') },
      { name: 'createWebhook', allowed: ['operator'], run: (c) => c.request(CREATE_WEBHOOK, { url: 'https://hooks.example.org/lethe', events: ['REQUEST_COMPLETED'] }) },
      { name: 'webhooks', allowed: ['operator'], run: (c) => c.request(WEBHOOKS) },
      { name: 'webhookDeliveries', allowed: ['operator'], run: async (c) => {
        const { createWebhook: w } = await t.operator.ok(CREATE_WEBHOOK, { url: 'https://hooks.example.org/lethe', events: ['VERSION_PROMOTED'] });
        return c.request(DELIVERIES, { id: w.id });
      } },
      { name: 'deleteWebhook', allowed: ['operator'], run: async (c) => {
        const { createWebhook: w } = await t.operator.ok(CREATE_WEBHOOK, { url: 'https://hooks.example.org/lethe', events: ['VERSION_PROMOTED'] });
        return c.request(DELETE_WEBHOOK, { id: w.id });
      } },
    ];
    let counter = 0;
    for (const op of operations) {
      for (const who of ['anonymous', 'requester', 'auditor', 'operator'] as Client[]) {
        const expected = op.allowed.includes(who) ? 'allowed' : who === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN';
        it(`${op.name} by ${who}: ${expected}`, async () => {
          const client = { anonymous: t.anonymous, requester: alice, auditor, operator: t.operator }[who];
          const result = await op.run(client, ++counter);
          const code = result.errors?.[0]?.extensions?.code;
          if (expected === 'allowed') assert.equal(result.errors, undefined, `unexpected ${JSON.stringify(result.errors)}`);
          else assert.equal(code, expected);
        });
      }
    }

    it('a requester cannot read another requester\'s request', async () => {
      const { submitDeletionRequest: r } = await alice.ok(SUBMIT, { input: submitInput() });
      assert.equal((await bob.fails(REQUEST, { id: r.id })).code, 'FORBIDDEN');
    });

    it('viewer names the caller\'s role and owner (the console follows it)', async () => {
      assert.deepEqual((await alice.ok('{ viewer { role owner } }')).viewer, { role: 'REQUESTER', owner: 'alice' });
      assert.deepEqual((await auditor.ok('{ viewer { role owner } }')).viewer, { role: 'AUDITOR', owner: 'audit-office' });
    });

    it('a wrong token is UNAUTHENTICATED', async () => {
      assert.equal((await t.anonymous.withToken('lethe_nope').fails(VERIFY)).code, 'UNAUTHENTICATED');
    });
  });

  describe('event chain', () => {
    it('verifies, then detects a row altered behind the trigger', async () => {
      const intact = (await auditor.ok(VERIFY)).verifyEventChain;
      assert.equal(intact.valid, true);
      assert.ok(intact.checkedEvents > 20);
      // Only a superuser can do this: disable the append-only trigger and rewrite history.
      await t.dataSource.query('ALTER TABLE event_log DISABLE TRIGGER USER');
      const [{ seq }] = await t.dataSource.query(`SELECT seq FROM event_log WHERE type = 'request.received' ORDER BY seq LIMIT 1 OFFSET 2`);
      await t.dataSource.query(`UPDATE event_log SET actor = 'REQUESTER:mallory' WHERE seq = $1`, [seq]);
      await t.dataSource.query('ALTER TABLE event_log ENABLE TRIGGER USER');
      const broken = (await auditor.ok(VERIFY)).verifyEventChain;
      assert.equal(broken.valid, false);
      assert.equal(broken.firstInvalidSeq, Number(seq));
      assert.match(broken.problem, /altered/);
    });
  });
});
