// Who sees what, attacked over the real HTTP API: a REQUESTER learns nothing about other
// requesters' people or requests; AUDITORs and OPERATORs keep the full view; server paths are
// for OPERATORs only.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelVersionsService } from '../../src/lineages/model-versions.service';
import { RequestLifecycle } from '../../src/requests/request-lifecycle.service';
import { RequestOutcomes } from '../../src/requests/request-outcomes.service';
import { auditHistory } from '../audits/fixtures';
import { startTestApp, TestApp, writeDataset, writeModelDir } from '../support/app';
import { GqlClient } from '../support/gql';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { recordingQueueModule, RecordingQueue } from '../support/recording-queue';

const SUBMIT = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id } }`;
const TOKEN = `mutation($role: Role!, $owner: String!) { createApiToken(role: $role, owner: $owner) { token } }`;
const VERSION_FIELDS = 'number statusReason adapterUri hyperParameters requestIds requestCount reforgottenSubjectIds reforgottenSubjectCount';
const REQUEST = `query($id: ID!) { deletionRequest(id: $id) { id statusReason events { reason data } modelVersion { ${VERSION_FIELDS} } } }`;
const AUDIT = `query($id: ID!) { auditReport(requestId: $id) { reasons forget { text } cumulativeForget { text } } }`;
const LINEAGE = `query { modelLineage(name: "main") { baseModelPath datasetPath versions { ${VERSION_FIELDS} } } }`;
const SUBJECTS = `query($search: String) { datasetSubjects(lineage: "main", search: $search) { totalCount edges { node { id } } } }`;

describe('who sees what (embedded Postgres, real app over HTTP)', () => {
  let t: TestApp;
  let alice: GqlClient;
  let auditor: GqlClient;
  let aliceRequest: string;
  let bobRequest: string;
  const get = (client: GqlClient, route: string) => fetch(`${t.baseUrl}${route}`, { headers: { authorization: `Bearer ${client.token}` } });

  before(async () => {
    t = await startTestApp({ orchestration: recordingQueueModule(new RecordingQueue()) });
    const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), [
      { id: 's1', name: 'Ada Fictional', knowledge: 'FINETUNED' },
      { id: 's2', name: 'Bo Fictional', knowledge: 'FINETUNED' },
      { id: 's3', name: 'Cy Fictional', knowledge: 'FINETUNED' },
    ]);
    await t.operator.ok(`mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }`, {
      input: { name: 'main', baseModelPath: writeModelDir(path.join(t.postgres.dir, 'model')), datasetPath: dataset },
    });
    const token = async (role: string, owner: string) => t.operator.withToken((await t.operator.ok(TOKEN, { role, owner })).createApiToken.token);
    alice = await token('REQUESTER', 'alice');
    const bob = await token('REQUESTER', 'bob');
    auditor = await token('AUDITOR', 'audit-office');
    const submit = async (client: GqlClient, subject: string) =>
      (await client.ok(SUBMIT, { input: { lineage: 'main', idempotencyKey: subject, legalBasis: 'GDPR Art. 17', subject: { datasetSubjectId: subject } } })).submitDeletionRequest.id as string;
    aliceRequest = await submit(alice, 's1');
    bobRequest = await submit(bob, 's2');

    // One batch carries both requests; its re-forget pass and its audit name Bo (s2) as the workflows do.
    const lifecycle = t.app.get(RequestLifecycle);
    const versions = t.app.get(ModelVersionsService);
    for (const id of [aliceRequest, bobRequest]) {
      await lifecycle.transitionNow(id, 'UNLEARNING', { actor: 'workflow', reason: 'unlearning on lineage main' });
      await lifecycle.transitionNow(id, 'AUDITING', { actor: 'workflow', reason: 'auditing version 1' });
      await lifecycle.transitionNow(id, 'UNLEARNING', { actor: 'workflow', reason: 're-forgetting 2 forgotten people whom the audit of version 1 finds above 0.4: s1, s2', data: { note: 'still s2.' } });
      await lifecycle.transitionNow(id, 'AUDITING', { actor: 'workflow', reason: 'auditing version 1' });
    }
    const candidate = await versions.createCandidate({
      lineage: 'main', parentNumber: 0, adapterUri: '/srv/lethe/artifacts/adapters/main-v1', adapterSha256: 'a'.repeat(64), method: 'ga_klr',
      hyperParameters: { learningRate: 1e-4 }, requestIds: [aliceRequest, bobRequest], reforgottenSubjectIds: ['s1', 's2'], actor: 'workflow',
    });
    const { v2: audit } = await auditHistory();
    const result = { ...audit, reasons: ['re-forget pass 1 on s1, s2'], metrics: { ...audit.metrics!, scope: { ...audit.metrics!.scope, cumulativeForgetSubjectIds: ['s1', 's2'] } } };
    await versions.recordAudit({ lineage: 'main', versionNumber: candidate.number, requestIds: [aliceRequest, bobRequest], attempt: 1, metrics: result, decision: 'PASS', reasons: result.reasons, actor: 'workflow' });
    await t.app.get(RequestOutcomes).promote('main', candidate.number, 'workflow', 'continued by re-forget pass 1 on s2');
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => t?.stop());

  /** Nothing of Bo: neither his dataset id nor his request. */
  const assertNothingOfBob = (text: string, where: string) => {
    assert.doesNotMatch(text, /\bs2\b/, `${where} names another requester's person`);
    assert.ok(!text.includes(bobRequest), `${where} names another requester's request`);
  };

  it('a requester\'s request, events and model version name no one else and no server paths', async () => {
    const { deletionRequest: r } = await alice.ok(REQUEST, { id: aliceRequest });
    assertNothingOfBob(JSON.stringify(r), 'deletionRequest');
    assert.ok(r.events.some((e: { reason: string | null }) => e.reason === 're-forgetting 2 forgotten people whom the audit of version 1 finds above 0.4: s1, [another person]'));
    const v = r.modelVersion;
    assert.deepEqual([v.requestIds, v.requestCount, v.reforgottenSubjectIds, v.reforgottenSubjectCount], [[aliceRequest], 2, ['s1'], 2]);
    assert.deepEqual([v.adapterUri, v.hyperParameters], [null, null]);
  });

  it('a requester\'s audit report and JSON and HTML reports carry only its own person and aggregates', async () => {
    assertNothingOfBob(JSON.stringify((await alice.ok(AUDIT, { id: aliceRequest })).auditReport), 'auditReport');
    const json = await get(alice, `/reports/requests/${aliceRequest}.json`);
    assert.equal(json.status, 200);
    const report: any = await json.json();
    assertNothingOfBob(JSON.stringify(report), 'JSON report');
    assert.deepEqual(Object.keys(report.audit.metrics.perSubject), ['s1']);
    assert.equal(report.audit.metrics.retain.text.total, 3, 'aggregates stay');
    const html = await (await get(alice, `/reports/requests/${aliceRequest}.html`)).text();
    assertNothingOfBob(html, 'HTML report');
  });

  it('AUDITORs keep the full view but no server paths; OPERATORs see the paths', async () => {
    const { deletionRequest: r } = await auditor.ok(REQUEST, { id: aliceRequest });
    assert.deepEqual(r.modelVersion.requestIds.sort(), [aliceRequest, bobRequest].sort());
    assert.deepEqual(r.modelVersion.reforgottenSubjectIds, ['s1', 's2']);
    assert.equal(r.modelVersion.adapterUri, null);
    const report: any = await (await get(auditor, `/reports/requests/${aliceRequest}.json`)).json();
    assert.deepEqual(report.audit.metrics.scope.cumulativeForgetSubjectIds, ['s1', 's2']);
    const asAuditor = (await auditor.ok(LINEAGE)).modelLineage;
    assert.deepEqual([asAuditor.baseModelPath, asAuditor.datasetPath, asAuditor.versions[1].adapterUri], [null, null, null]);
    const asOperator = (await t.operator.ok(LINEAGE)).modelLineage;
    assert.equal(asOperator.versions[1].adapterUri, '/srv/lethe/artifacts/adapters/main-v1');
    assert.equal(asOperator.datasetPath, path.join(t.postgres.dir, 'dataset'));
  });

  it('datasetSubjects: AUDITORs and OPERATORs list the dataset\'s people; a REQUESTER only searches it, to pick the person it files for', async () => {
    const refused = await alice.fails(SUBJECTS);
    assert.deepEqual([refused.code, refused.field], ['BAD_USER_INPUT', 'search']);
    assert.deepEqual((await alice.ok(SUBJECTS, { search: 'ada' })).datasetSubjects.edges, [{ node: { id: 's1' } }]);
    assert.equal((await auditor.ok(SUBJECTS)).datasetSubjects.totalCount, 3);
  });

  it('a JSON report is signed with the chain head; scripts/verify-report.cjs checks a download offline', async () => {
    const keyResponse = await fetch(`${t.baseUrl}/reports/signing-key`);
    assert.equal(keyResponse.status, 200, 'the public key needs no token');
    const dir = fs.mkdtempSync(path.join(t.postgres.dir, 'download-'));
    const keyFile = path.join(dir, 'key.pem');
    fs.writeFileSync(keyFile, await keyResponse.text());
    const reportFile = path.join(dir, 'report.json');
    fs.writeFileSync(reportFile, await (await get(alice, `/reports/requests/${aliceRequest}.json`)).text());
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    const [{ seq, hash }] = await t.dataSource.query('SELECT seq, hash FROM event_log ORDER BY seq DESC LIMIT 1');
    assert.deepEqual(report.chainHead, { seq: Number(seq), hash });
    assert.equal(fs.statSync(t.config.reportSigningKeyFile).mode & 0o777, 0o600);
    const verify = () => spawnSync(process.execPath, [path.resolve(__dirname, '../../../scripts/verify-report.cjs'), reportFile, keyFile], { encoding: 'utf8' });
    const valid = verify();
    assert.equal(valid.status, 0, valid.stdout + valid.stderr);
    assert.match(valid.stdout, new RegExp(`chain head at issue: seq ${seq}, hash ${hash}`));
    // One changed verdict, or another chain head, and the download no longer verifies.
    for (const tamper of [(r: any) => { r.audit.decision = 'NEEDS_REVIEW'; }, (r: any) => { r.chainHead.hash = '0'.repeat(64); }]) {
      const changed = JSON.parse(JSON.stringify(report));
      tamper(changed);
      fs.writeFileSync(reportFile, JSON.stringify(changed));
      assert.equal(verify().status, 1);
    }
  });
});
