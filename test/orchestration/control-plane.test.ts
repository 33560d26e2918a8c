// The orchestration against the real control plane: GraphQL API (real app, embedded Postgres),
// the Temporal RequestQueue, the lineage workflow and the real bookkeeping activities on the real
// dev server. Only `unlearn`/`export_onnx` (Python) and `audit` are replaced here; the replacements
// check every payload they receive against the JSON Schemas in contracts/.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import { ApplicationFailure } from '@temporalio/common';
import { parseGatePolicy } from '../../src/audits/domain/gate-policy';
import { DEFAULT_PROFILE_RETENTION_DAYS } from '../../src/lineages/domain/lineage';
import { LineagesService } from '../../src/lineages/lineages.service';
import { ModelVersionsService } from '../../src/lineages/model-versions.service';
import { ForgetSets } from '../../src/requests/forget-sets.service';
import { RequestLifecycle } from '../../src/requests/request-lifecycle.service';
import { RequestOutcomes } from '../../src/requests/request-outcomes.service';
import { Retention } from '../../src/requests/retention.service';
import { AUDIT_TASK_QUEUE, CONTROL_TASK_QUEUE, type AuditActivityInput, type AuditActivityOutput } from '../../src/orchestration/activity-types';
import { createControlActivities, createControlPlane } from '../../src/orchestration/control-activities';
import { DEFAULT_GPU_HEARTBEAT_TIMEOUT_MS } from '../../src/orchestration/orchestration-settings';
import { TemporalGpuPresence } from '../../src/orchestration/temporal-gpu-presence';
import { GPU_TASK_QUEUE, type ExportOnnxInput, type UnlearnInput, type UnlearnOutput } from '../../src/common/gpu-contracts';
import { RunningWorkers } from '../../src/temporal/workers';
import { startTestApp, writeDataset, writeModelDir, type TestApp } from '../support/app';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { lineageWorkflowId, rollbackUpdate } from '../../workflows/messages';
import { eventually, lineageWorkflowBundle } from './harness';

const DAY_MS = 86_400_000;
const CONTRACTS = path.resolve(__dirname, '../../../contracts');
const SUBMIT = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id status } }`;
const REQUEST = `query($id: ID!) { deletionRequest(id: $id) { id status statusReason modelVersion { number } events { type data } } }`;
const REVIEW = `mutation($id: ID!, $decision: ReviewDecision!, $reason: String!) { reviewDeletionRequest(id: $id, decision: $decision, reason: $reason) { id status } }`;
const CANCEL = `mutation($id: ID!, $reason: String!) { cancelDeletionRequest(id: $id, reason: $reason) { id status } }`;
const ROLLBACK = `mutation($lineage: String!, $to: Int!, $reason: String!) { rollbackModel(lineage: $lineage, toVersion: $to, reason: $reason) { name championVersion } }`;
const PREVIEW = `query($lineage: String!, $to: Int!) { rollbackPreview(lineage: $lineage, toVersion: $to) { rolledBackVersions reopenedRequestIds conflict } }`;
const LINEAGE = `query($name: String!) { modelLineage(name: $name) { championVersion versions { number status parentNumber requestIds reforgottenSubjectIds statusReason } } }`;
const CREATE_LINEAGE = `mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name championVersion } }`;

function contractValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  for (const file of fs.readdirSync(CONTRACTS).filter((f) => f.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(fs.readFileSync(path.join(CONTRACTS, file), 'utf8')));
  }
  return (schema: string, value: unknown) => {
    const validate = ajv.getSchema(schema)!;
    if (!validate(value)) throw ApplicationFailure.nonRetryable(`${schema}: ${ajv.errorsText(validate.errors)}`, 'INVALID_INPUT');
  };
}

describe('orchestration with the control plane (GraphQL -> Temporal -> Postgres)', () => {
  let temporal: TestTemporal;
  let t: TestApp;
  let workers: RunningWorkers;
  let plane: ReturnType<typeof createControlPlane>;
  const unlearnInputs: UnlearnInput[] = [];
  const forgetSetFiles: Array<{ subjects: Array<{ datasetSubjectId: string | null; name: string }> }> = [];
  /** Audit decisions consumed in order; PASS when empty. */
  const decisions: AuditActivityOutput[] = [];
  /** What version 0's audit says of a step of inline profiles (scored before training). */
  let versionZeroKnows = true;
  /** When set, `unlearn` waits for it: a step that runs for as long as a test needs. */
  let unlearnHeld: Promise<void> | null = null;
  let keyCounter = 0;

  before(async () => {
    temporal = await startTestTemporal();
    t = await startTestApp({ env: { TEMPORAL_ADDRESS: temporal.server.address } });
    const check = contractValidator();
    const artifacts = t.config.artifactsDir;
    const gpu = {
      async unlearn(input: UnlearnInput): Promise<UnlearnOutput> {
        await unlearnHeld;
        check('unlearn.input.schema.json', input);
        const forgetSet = JSON.parse(fs.readFileSync(input.forgetSet.path, 'utf8'));
        check('forget-set.schema.json', forgetSet);
        assert.equal(crypto.createHash('sha256').update(fs.readFileSync(input.forgetSet.path)).digest('hex'), input.forgetSet.sha256);
        unlearnInputs.push(input);
        forgetSetFiles.push(forgetSet);
        const dir = path.join(input.outputRoot, `attempt-${unlearnInputs.length}`);
        fs.mkdirSync(dir, { recursive: true });
        const adapter = path.join(dir, 'adapter_model.safetensors');
        fs.writeFileSync(adapter, `adapter ${unlearnInputs.length}`);
        const output = {
          adapter: { path: adapter, sha256: crypto.createHash('sha256').update(fs.readFileSync(adapter)).digest('hex') },
          manifestPath: path.join(dir, 'manifest.json'), lossCurve: [2.1, 1.4], steps: 2, wallSeconds: 0.01, tokensPerSecond: 1000, reused: false,
        };
        check('unlearn.output.schema.json', output);
        return output;
      },
      async export_onnx(input: ExportOnnxInput) {
        check('export_onnx.input.schema.json', input);
        const output = { dir: path.join(artifacts, 'onnx', 'x'), manifestPath: path.join(artifacts, 'onnx', 'x', 'manifest.json'), reused: false };
        check('export_onnx.output.schema.json', output);
        return output;
      },
    };
    const audit = {
      async audit(input: AuditActivityInput): Promise<AuditActivityOutput> {
        // A step of inline profiles scores version 0 first; here it always knew them, so they are trained on.
        if (input.versionNumber === 0) return { decision: 'FAIL', reasons: [], metrics: null, baseline: null, noKnowledgeFound: !versionZeroKnows, gatePolicy: parseGatePolicy(input.gatePolicy) };
        return decisions.shift() ?? { decision: 'PASS', reasons: [], metrics: null, baseline: null };
      },
    };
    plane = createControlPlane(
      { ...servicesOf(t), gpu: new TemporalGpuPresence(temporal.client) },
      { artifactsDir: artifacts, maxAttempts: 2, reviewTimeoutMs: 60_000, gpuHeartbeatTimeoutMs: DEFAULT_GPU_HEARTBEAT_TIMEOUT_MS },
    );
    const control = createControlActivities(plane);
    workers = await RunningWorkers.start(temporal.nativeConnection, 'default', [
      { taskQueue: CONTROL_TASK_QUEUE, workflowBundle: await lineageWorkflowBundle(), activities: control },
      { taskQueue: GPU_TASK_QUEUE, activities: gpu },
      { taskQueue: AUDIT_TASK_QUEUE, activities: audit },
    ]);
    const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), [
      { id: 's1', name: 'Ada Fictional', knowledge: 'FINETUNED' },
      { id: 's2', name: 'Bo Fictional', knowledge: 'FINETUNED' },
      { id: 's3', name: 'Cy Fictional', knowledge: 'FINETUNED' },
    ]);
    const model = writeModelDir(path.join(t.postgres.dir, 'model'));
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'seq', baseModelPath: model, datasetPath: dataset } });
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'cum', baseModelPath: model, datasetPath: dataset, strategy: 'CUMULATIVE' } });
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'refo', baseModelPath: model, datasetPath: dataset, reforgetPasses: 1, reforgetAboveAccuracy: 0.4 } });
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'refo-edge', baseModelPath: model, datasetPath: dataset, reforgetPasses: 1 } });
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'window', baseModelPath: model, datasetPath: dataset } });
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'no-window', baseModelPath: model, datasetPath: dataset, profileRetentionDays: 0 } });
    // Completes people version 0 does not know without training (an operator's choice; the default trains).
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'held', baseModelPath: model, datasetPath: dataset } });
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'trusting', baseModelPath: model, datasetPath: dataset, gatePolicy: { forget: { requireUnlearning: false } } } });
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => {
    await workers?.shutdown();
    await t?.stop();
    await temporal?.stop();
  });

  async function submit(lineage: string, subject: Record<string, unknown>): Promise<string> {
    const input = { lineage, idempotencyKey: `k${++keyCounter}`, legalBasis: 'GDPR Art. 17(1)(a)', subject };
    return (await t.operator.ok(SUBMIT, { input })).submitDeletionRequest.id;
  }

  async function request(id: string) {
    return (await t.operator.ok(REQUEST, { id })).deletionRequest as { status: string; statusReason: string | null; modelVersion: { number: number } | null; events: Array<{ type: string; data: any }> };
  }

  /** The directory the scripted GPU worker wrote the n-th adapter to (1-based). */
  function adapterDir(n: number): string {
    return path.join(unlearnInputs[n - 1].outputRoot, `attempt-${n}`);
  }

  async function adapterDeletions(lineage: string): Promise<string[]> {
    const rows: Array<{ entity_id: string }> = await t.dataSource.query(`SELECT entity_id FROM event_log WHERE type = 'version.adapter_deleted' AND entity_id LIKE $1 ORDER BY seq`, [`${lineage}#%`]);
    return rows.map((r) => r.entity_id);
  }

  async function until(id: string, status: string) {
    return eventually(async () => {
      const r = await request(id);
      assert.equal(r.status, status, `request ${id}: ${r.status} (${r.statusReason})`);
      return r;
    }, 30_000);
  }

  it('carries requests to promoted versions, rolls back, reopens and redoes the undone one (sequential)', async () => {
    const first = await submit('seq', { datasetSubjectId: 's1' });
    const second = await submit('seq', { datasetSubjectId: 's2' });
    assert.equal((await until(first, 'COMPLETED')).modelVersion?.number, 1);
    assert.equal((await until(second, 'COMPLETED')).modelVersion?.number, 2);
    // Sequential: version 2 continued from version 1's adapter; s1 is never retain data again.
    const [u1, u2] = unlearnInputs.slice(-2);
    assert.equal(u1.parentAdapter, null);
    assert.equal(u2.parentAdapter?.sha256, crypto.createHash('sha256').update('adapter 1').digest('hex'));
    assert.deepEqual(u2.excludeFromRetain, ['s1']);
    // ...and held where version 1, the version that forgot them, had them.
    assert.deepEqual(u1.forgottenBy, []);
    assert.deepEqual(u2.forgottenBy, [{ adapter: u2.parentAdapter, datasetSubjectIds: ['s1'] }]);

    await t.operator.ok(ROLLBACK, { lineage: 'seq', to: 1, reason: 'version 2 loses general accuracy' });
    const redone = await eventually(async () => {
      const r = await until(second, 'COMPLETED');
      assert.equal(r.modelVersion?.number, 3);
      return r;
    }, 30_000);
    assert.ok(redone.events.some((e) => e.type === 'request.status_changed' && e.data.to === 'REOPENED'));
    // The redo continues from version 1 and holds s1 there; the rolled-back version 2 forgot nobody that still counts.
    const redo = unlearnInputs.at(-1)!;
    assert.deepEqual(redo.forgottenBy, [{ adapter: u2.parentAdapter, datasetSubjectIds: ['s1'] }]);
    assert.equal(redo.parentAdapter?.sha256, u2.parentAdapter?.sha256);
    const lineage = (await t.operator.ok(LINEAGE, { name: 'seq' })).modelLineage;
    assert.equal(lineage.championVersion, 3);
    assert.deepEqual(lineage.versions.map((v: any) => [v.number, v.status, v.parentNumber]), [
      [0, 'SUPERSEDED', null], [1, 'SUPERSEDED', 0], [2, 'ROLLED_BACK', 1], [3, 'PROMOTED', 1],
    ]);
    // Retention: dataset-subject requests are purged at completion (an event in the chain), and
    // every decrypted forget-set file is gone.
    assert.ok((await request(first)).events.some((e) => e.type === 'forget_set.purged'));
    await eventually(() => assert.deepEqual(fs.readdirSync(path.join(t.config.artifactsDir, 'forget-sets')), []));
  });

  it('trains cumulative versions from the base on the union of the forgotten subjects', async () => {
    const a = await submit('cum', { datasetSubjectId: 's1' });
    await until(a, 'COMPLETED');
    const b = await submit('cum', { datasetSubjectId: 's3' });
    assert.equal((await until(b, 'COMPLETED')).modelVersion?.number, 2);
    const last = unlearnInputs.at(-1)!;
    assert.equal(last.parentAdapter, null);
    assert.deepEqual(last.forgottenBy, [], 'a cumulative version puts the earlier people in its forget set instead');
    assert.deepEqual(forgetSetFiles.at(-1)!.subjects.map((s) => s.datasetSubjectId), ['s1', 's3']);
    const lineage = (await t.operator.ok(LINEAGE, { name: 'cum' })).modelLineage;
    assert.deepEqual(lineage.versions.map((v: any) => [v.number, v.parentNumber]), [[0, null], [1, null], [2, null]]);
  });

  it('holds a NEEDS_REVIEW candidate for an operator and promotes it on APPROVE', async () => {
    decisions.push({ decision: 'REVIEW', reasons: ['retain text 84% of version 0 < 85%'], metrics: null });
    const id = await submit('seq', { profile: { name: 'Quentin Inline', images: [], facts: [{ question: 'Where does Quentin live?', answer: 'Lyon' }] } });
    await until(id, 'NEEDS_REVIEW');
    await t.operator.ok(REVIEW, { id, decision: 'APPROVE', reason: 'acceptable retain loss' });
    const done = await until(id, 'COMPLETED');
    assert.equal(done.modelVersion?.number, 4);
    assert.deepEqual(forgetSetFiles.at(-1)!.subjects.map((s) => s.name), ['Quentin Inline']);
    // Retention on a SEQUENTIAL lineage: the inline profile is kept for the rollback window (an event with its end)...
    const kept = await eventually(async () => {
      const event = (await request(id)).events.find((e) => e.type === 'forget_set.kept');
      assert.ok(event, 'kept for the rollback window');
      return new Date(event.data.until);
    });
    assert.ok(Math.abs(kept.getTime() - Date.now() - DEFAULT_PROFILE_RETENTION_DAYS * DAY_MS) < 60_000, `kept ${DEFAULT_PROFILE_RETENTION_DAYS} days: ${kept.toISOString()}`);
    // ...purged by the sweep once the window ended (an event in the chain), and not a moment before...
    const retention = t.app.get(Retention);
    assert.deepEqual(await retention.purgeEndedRollbackWindows(new Date(kept.getTime() - 1000), 'test'), []);
    assert.deepEqual(await retention.purgeEndedRollbackWindows(new Date(kept.getTime() + 1000), 'test'), [id]);
    const [purged] = await t.dataSource.query(`SELECT reason FROM event_log WHERE type = 'forget_set.purged' AND entity_id = $1`, [id]);
    assert.match(purged.reason, /30-day rollback window after completion ended/);
    // ...so a rollback that would undo it is refused from then on: the person could not be unlearned again.
    const refused = await t.operator.fails(ROLLBACK, { lineage: 'seq', to: 3, reason: 'would undo the inline profile' });
    assert.equal(refused.code, 'CONFLICT');
    assert.match(refused.message, new RegExp(`would undo request\\(s\\) ${id}`));
    // The console's confirmation asks first, and is told the same by the same rule.
    const preview = (await t.operator.ok(PREVIEW, { lineage: 'seq', to: 3 })).rollbackPreview;
    assert.equal(refused.message, `toVersion: ${preview.conflict}`);
    assert.ok(preview.reopenedRequestIds.includes(id));
  });

  it('keeps a completed inline profile for the rollback window, so a rollback within it unlearns the person again', async () => {
    const id = await submit('window', { profile: { name: 'Wanda Window', images: [], facts: [{ question: 'Where does Wanda live?', answer: 'Bergen' }] } });
    assert.equal((await until(id, 'COMPLETED')).modelVersion?.number, 1);
    await t.operator.ok(ROLLBACK, { lineage: 'window', to: 0, reason: 'version 1 loses general accuracy' });
    const redone = await eventually(async () => {
      const r = await until(id, 'COMPLETED');
      assert.equal(r.modelVersion?.number, 2);
      return r;
    }, 30_000);
    assert.ok(redone.events.some((e) => e.type === 'request.status_changed' && e.data.to === 'REOPENED'));
    assert.deepEqual(forgetSetFiles.at(-1)!.subjects.map((s) => s.name), ['Wanda Window'], 'the redo trained on the kept profile');
    // Each completion opens a window; the profile stays until the last one ends.
    await eventually(async () => assert.equal((await request(id)).events.filter((e) => e.type === 'forget_set.kept').length, 2));
    assert.ok(!(await request(id)).events.some((e) => e.type === 'forget_set.purged'));
    // The report says until when the personal data is kept, and why.
    const res = await fetch(`${t.baseUrl}/reports/requests/${id}.json`, { headers: { authorization: `Bearer ${t.operator.token}` } });
    const report = (await res.json()) as { request: { forgetSetPurgedAt: string | null; forgetSetKeptUntil: string | null } };
    const lastKept = (await request(id)).events.filter((e) => e.type === 'forget_set.kept').at(-1)!;
    assert.deepEqual([report.request.forgetSetPurgedAt, report.request.forgetSetKeptUntil], [null, lastKept.data.until]);
  });

  it('purges a completed inline profile at once on a lineage with a 0-day rollback window', async () => {
    const id = await submit('no-window', { profile: { name: 'Zeno Zero', images: [], facts: [{ question: 'Where does Zeno live?', answer: 'Oslo' }] } });
    await until(id, 'COMPLETED');
    await eventually(async () => assert.ok((await request(id)).events.some((e) => e.type === 'forget_set.purged')));
    assert.ok(!(await request(id)).events.some((e) => e.type === 'forget_set.kept'));
    const refused = await t.operator.fails(ROLLBACK, { lineage: 'no-window', to: 0, reason: 'would undo the inline profile' });
    assert.equal(refused.code, 'CONFLICT');
  });

  it('fails closed: a candidate that never passes the audit is rejected and the request FAILED', async () => {
    const retry: AuditActivityOutput = { decision: 'FAIL', reasons: ['forget text 0.61 > 0.35'], metrics: null, escalation: { direction: 'STRENGTHEN_FORGETTING', learningRateFactor: 2, epochsFactor: 2, suggestion: 'train harder' } };
    decisions.push(retry, retry);
    const id = await submit('seq', { datasetSubjectId: 's3' });
    const failed = await until(id, 'FAILED');
    assert.match(failed.statusReason ?? '', /did not pass after 2 attempts/);
    const [a1, a2] = unlearnInputs.slice(-2);
    assert.deepEqual([a2.hyperParameters.learningRate / a1.hyperParameters.learningRate, a2.hyperParameters.epochs / a1.hyperParameters.epochs], [2, 2]);
    const lineage = (await t.operator.ok(LINEAGE, { name: 'seq' })).modelLineage;
    assert.equal(lineage.championVersion, 4);
    assert.deepEqual(lineage.versions.slice(-2).map((v: any) => v.status), ['REJECTED', 'REJECTED']);
    // Trained on s3's data and out of every rollback's reach: deleted once the step ended, each an event; the champion's stays.
    // The step's last activity records FAILED before it deletes, so the files may outlive the status by a moment.
    const [v5, v6] = lineage.versions.slice(-2).map((v: any) => v.number);
    await eventually(async () => {
      assert.deepEqual([fs.existsSync(adapterDir(unlearnInputs.length - 1)), fs.existsSync(adapterDir(unlearnInputs.length))], [false, false]);
      assert.deepEqual(await adapterDeletions('seq'), [`seq#${v5}`, `seq#${v6}`]);
    }, 10_000);
    assert.ok(fs.existsSync(adapterDir(unlearnInputs.length - 2)), 'the champion\'s adapter is kept');
  });

  it('re-forgets an earlier person the audit finds above 0.40, from the candidate, and holds them at that version afterwards', async () => {
    const tally = (mm: number, text: number) => ({ multimodal: { correct: mm, total: 5 }, text: { correct: text, total: 5 } });
    const audited = (perSubject: Record<string, unknown>): AuditActivityOutput =>
      ({ decision: 'PASS', reasons: [], metrics: { perSubject } }) as unknown as AuditActivityOutput;
    // Request 1 (s1): nobody above 0.40 (2 of 5 is not above), no pass.
    decisions.push(audited({ s1: tally(2, 1), s2: tally(5, 5) }));
    const first = await submit('refo', { datasetSubjectId: 's1' });
    assert.equal((await until(first, 'COMPLETED')).modelVersion?.number, 1);
    const passesBefore = unlearnInputs.length;
    // Request 2 (s2): s1 is back at 3 of 5 with the portrait; s3 (never forgotten) is not anyone's to re-forget.
    decisions.push(audited({ s1: tally(3, 1), s2: tally(1, 0), s3: tally(5, 5) }));
    const second = await submit('refo', { datasetSubjectId: 's2' });
    const done = await until(second, 'COMPLETED');
    assert.equal(done.modelVersion?.number, 3, 'the pass is the version promoted');
    const [own, pass] = unlearnInputs.slice(passesBefore);
    assert.equal(unlearnInputs.length, passesBefore + 2, 'one pass at most');
    const adapterOf = (n: number) => crypto.createHash('sha256').update(`adapter ${n}`).digest('hex');
    assert.equal(own.parentAdapter?.sha256, adapterOf(passesBefore));
    assert.equal(pass.parentAdapter?.sha256, adapterOf(passesBefore + 1), 'the pass continues the candidate');
    assert.deepEqual(forgetSetFiles.at(-1)!.subjects.map((s) => s.datasetSubjectId), ['s1']);
    assert.deepEqual(pass.excludeFromRetain, ['s2']);
    assert.deepEqual(pass.forgottenBy, [{ adapter: pass.parentAdapter, datasetSubjectIds: ['s2'] }]);
    const lineage = (await t.operator.ok(LINEAGE, { name: 'refo' })).modelLineage;
    assert.deepEqual(lineage.versions.map((v: any) => [v.number, v.status, v.parentNumber, v.reforgottenSubjectIds]), [
      [0, 'SUPERSEDED', null, []], [1, 'SUPERSEDED', 0, []], [2, 'REJECTED', 1, []], [3, 'PROMOTED', 2, ['s1']],
    ]);
    assert.match(lineage.versions[2].statusReason, /continued by re-forget pass 1 of attempt 1 \(version 3\) on 1 forgotten people .*: s1/);
    // Version 2 was kept while the pass continued from it, and deleted once the step ended (the request reads COMPLETED
    // just before the deletion finishes); the promoted and superseded ones stay.
    await eventually(async () => {
      assert.deepEqual([fs.existsSync(path.dirname(pass.parentAdapter!.path)), fs.existsSync(path.dirname(own.parentAdapter!.path))], [false, true]);
      assert.deepEqual(await adapterDeletions('refo'), ['refo#2']);
    });
    const statuses = done.events.filter((e) => e.type === 'request.status_changed').map((e) => e.data.to);
    assert.deepEqual(statuses.slice(-4), ['AUDITING', 'UNLEARNING', 'AUDITING', 'COMPLETED']);

    // Request 3 (s3): s1 and s2 are both held at version 3, the one that last trained on each.
    const third = await submit('refo', { datasetSubjectId: 's3' });
    await until(third, 'COMPLETED');
    const next = unlearnInputs.at(-1)!;
    assert.deepEqual(next.forgottenBy, [{ adapter: { path: next.parentAdapter!.path, sha256: adapterOf(passesBefore + 2) }, datasetSubjectIds: ['s1', 's2'] }]);
    await eventually(() => assert.deepEqual(fs.readdirSync(path.join(t.config.artifactsDir, 'forget-sets')), []));
  });

  it('a lineage on the default limit (0.2) also re-forgets a person at the edge of the goal, 2 of 5, and not one at 1 of 5', async () => {
    const tally = (mm: number, text: number) => ({ multimodal: { correct: mm, total: 5 }, text: { correct: text, total: 5 } });
    const audited = (perSubject: Record<string, unknown>): AuditActivityOutput =>
      ({ decision: 'PASS', reasons: [], metrics: { perSubject } }) as unknown as AuditActivityOutput;
    decisions.push(audited({ s1: tally(0, 2) }));
    const before = unlearnInputs.length;
    const first = await submit('refo-edge', { datasetSubjectId: 's1' });
    assert.equal((await until(first, 'COMPLETED')).modelVersion?.number, 2, 'the pass is the version promoted');
    assert.equal(unlearnInputs.length, before + 2);
    assert.deepEqual(forgetSetFiles.at(-1)!.subjects.map((s) => s.datasetSubjectId), ['s1']);
    const { deletionRequest } = await t.operator.ok(`query($id: ID!) { deletionRequest(id: $id) { events { type reason } } }`, { id: first });
    const reasons = deletionRequest.events.map((e: { reason: string | null }) => e.reason ?? '');
    assert.ok(reasons.some((r: string) => /re-forgetting 1 forgotten people whom the audit of version 1 finds above 0\.2: s1/.test(r)), reasons.join('\n'));

    decisions.push(audited({ s1: tally(1, 1), s2: tally(1, 0) }));
    const second = await submit('refo-edge', { datasetSubjectId: 's2' });
    assert.equal((await until(second, 'COMPLETED')).modelVersion?.number, 3, 'nobody above 0.2: no pass');
    assert.equal(unlearnInputs.length, before + 3);
  });

  it('writes a forget-set file only while a GPU worker polls, once per step however often retried, and sweeps orphans', async () => {
    // A day-long batching window keeps the workflow from beginning the request: the test plays its activities.
    const model = writeModelDir(path.join(t.postgres.dir, 'model'));
    const dataset = path.join(t.postgres.dir, 'dataset');
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'files', baseModelPath: model, datasetPath: dataset, batchingWindowSeconds: 86400 } });
    const id = await submit('files', { profile: { name: 'Rita Inline', images: [], facts: [{ question: 'Where does Rita work?', answer: 'Bergen' }] } });
    const root = path.join(t.config.artifactsDir, 'forget-sets');
    const dirs = () => (fs.existsSync(root) ? fs.readdirSync(root).sort() : []);

    // No GPU worker polls this queue: the step does not begin and no plaintext is written for it to wait on.
    const nobody = createControlActivities(createControlPlane(
      { ...servicesOf(t), gpu: new TemporalGpuPresence(temporal.client, 'gpu-nobody-polls') },
      { artifactsDir: t.config.artifactsDir, maxAttempts: 2, reviewTimeoutMs: 60_000, gpuHeartbeatTimeoutMs: DEFAULT_GPU_HEARTBEAT_TIMEOUT_MS },
    ));
    await assert.rejects(nobody.beginRequest({ lineage: 'files', requestIds: [id] }), /no GPU worker is polling/);
    assert.deepEqual(dirs(), []);
    await until(id, 'QUEUED');

    // With the test's GPU worker polling `gpu`: written; a retry (a lost completion) replaces the copy instead of adding one.
    const activities = createControlActivities(plane);
    const first = (await activities.beginRequest({ lineage: 'files', requestIds: [id] }))!;
    const retried = (await activities.beginRequest({ lineage: 'files', requestIds: [id] }))!;
    assert.equal(retried.forgetSetFile, first.forgetSetFile);
    // The audit probes the inline profile from the same file (it has no eval questions about them).
    assert.deepEqual(first.audit.forgetSubjectIds, []);
    assert.deepEqual(first.audit.inlineProfiles, { forgetSetFile: first.forgetSetFile, requestIds: [id] });
    assert.equal(retried.unlearn.forgetSet.sha256, first.unlearn.forgetSet.sha256);
    assert.equal(dirs().length, 1);
    assert.equal((await request(id)).status, 'UNLEARNING');

    // A worker start sweeps what no running step owns (a crash's leftovers) and keeps the running step's file.
    const finished = await submit('seq', { datasetSubjectId: 's1' });
    await until(finished, 'COMPLETED');
    await eventually(() => assert.equal(dirs().length, 1, 'the finished step discarded its own file'));
    const orphanOfFinished = path.join(root, 'step-finished');
    fs.mkdirSync(orphanOfFinished);
    fs.writeFileSync(path.join(orphanOfFinished, 'step.json'), JSON.stringify({ lineage: 'seq', requestIds: [finished] }));
    fs.writeFileSync(path.join(orphanOfFinished, 'forget-set.json'), '{"subjects":[]}');
    fs.mkdirSync(path.join(root, 'step-unowned'));
    const swept = await plane.files.sweep((owner) => plane.planner.stillRuns(owner));
    assert.deepEqual(swept.sort(), ['step-finished', 'step-unowned']);
    assert.deepEqual(dirs(), [path.basename(path.dirname(first.forgetSetFile))]);

    // The step ends, whatever the outcome: its file goes.
    await activities.failRequests({ lineage: 'files', requestIds: [id], reason: 'test ends the step' });
    await activities.discardForgetSetFile(first.forgetSetFile);
    assert.deepEqual(dirs(), []);
    // FAILED: the personal data goes too (retention), an event in the chain.
    assert.ok((await request(id)).events.some((e) => e.type === 'forget_set.purged'));
  });
  it('completes an inline profile that version 0 showed no knowledge of without training, its version-0 audit recorded as the evidence', async () => {
    versionZeroKnows = false;
    const trained = unlearnInputs.length;
    try {
      const id = await submit('trusting', { profile: { name: 'Ulla Unknown', images: [], facts: [{ question: 'Where does Ulla live?', answer: 'Turku' }] } });
      const done = await until(id, 'COMPLETED');
      assert.equal(done.modelVersion?.number, 0, 'carried out by version 0');
      assert.match(done.statusReason ?? '', /the model showed no knowledge of this person before unlearning/);
      assert.equal(unlearnInputs.length, trained, 'nothing was trained');
      const versions = t.app.get(ModelVersionsService);
      const audits = await versions.auditResultsOfVersion((await versions.findVersion('trusting', 0))!.id);
      assert.deepEqual(audits.filter((a) => a.requestId === id).map((a) => a.attempt), [1]);
      // No rollback reaches version 0: the profile is not kept for one.
      await eventually(async () => assert.ok((await request(id)).events.some((e) => e.type === 'forget_set.purged')));
      assert.ok(!(await request(id)).events.some((e) => e.type === 'forget_set.kept'));
    } finally {
      versionZeroKnows = true;
    }
  });
  it('a rollback waiting for a running step does not hold the lineage\'s intake: submissions and cancels answer within a second', async () => {
    const timed = async <T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> => {
      const started = performance.now();
      const value = await call();
      return { value, ms: performance.now() - started };
    };
    const first = await submit('held', { datasetSubjectId: 's1' });
    assert.equal((await until(first, 'COMPLETED')).modelVersion?.number, 1);
    let release!: () => void;
    unlearnHeld = new Promise<void>((resolve) => (release = resolve));
    try {
      const running = await submit('held', { datasetSubjectId: 's2' });
      await until(running, 'UNLEARNING');
      let rolledBack = false;
      const rollback = t.operator.ok(ROLLBACK, { lineage: 'held', to: 0, reason: 'version 1 loses general accuracy' }).finally(() => (rolledBack = true));
      // The rollback is accepted by the workflow and waits for the step (it never moves the champion under it).
      await eventually(async () => {
        const history = await temporal.client.workflow.getHandle(lineageWorkflowId('held')).fetchHistory();
        const accepted = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === rollbackUpdate.name);
        assert.equal(accepted.length, 1, 'the workflow accepted the rollback');
      }, 5_000);
      assert.equal(rolledBack, false, 'the rollback waits for the running step');

      for (let i = 0; i < 3; i++) {
        const submitted = await timed(() => submit('held', { datasetSubjectId: 's3' }));
        assert.ok(submitted.ms < 1000, `submission ${i} answered after ${submitted.ms.toFixed(0)} ms`);
        const queued = await timed(() => until(submitted.value, 'QUEUED'));
        assert.ok(queued.ms < 1000, `submission ${i} queued on the workflow after ${queued.ms.toFixed(0)} ms`);
        const canceled = await timed(() => t.operator.ok(CANCEL, { id: submitted.value, reason: 'filed twice' }));
        assert.equal(canceled.value.cancelDeletionRequest.status, 'CANCELED');
        assert.ok(canceled.ms < 1000, `cancel ${i} answered after ${canceled.ms.toFixed(0)} ms`);
      }
      assert.equal(rolledBack, false, 'all of it while the rollback still waited');

      release();
      assert.equal((await rollback).rollbackModel.championVersion, 0);
      // Both undone requests are carried out again; the canceled ones never ran.
      await until(first, 'COMPLETED');
      await until(running, 'COMPLETED');
    } finally {
      unlearnHeld = null;
      release();
    }
  });
});

function servicesOf(t: TestApp) {
  return {
    lineages: t.app.get(LineagesService),
    versions: t.app.get(ModelVersionsService),
    lifecycle: t.app.get(RequestLifecycle),
    outcomes: t.app.get(RequestOutcomes),
    retention: t.app.get(Retention),
    forgetSets: t.app.get(ForgetSets),
  };
}
