// Re-forget passes on the real parts: the tiny LLaVA trains a pass from the candidate's adapter, it is
// exported and audited on onnxruntime-node, and the lineage keeps one candidate. Two training steps a
// version leave the person well above the default limit of 0.2, so every audit finds them again and both passes run; the
// gate always promotes, so the versions and transitions asserted here do not depend on forgetting quality
// (that is measured by `npm run bench:e2e -- --reforget N` and `npm run pulse -- --reforget N`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { activityStarts, ALWAYS_PROMOTE_GATE_POLICY, createLineage, getAudit, getRequest, knownSubjects, startE2eStack, STACK_START_HOOK_TIMEOUT_MS, submit, waitForFinal, type E2eStack } from './harness';

const lineage = 'reforget-e2e';

describe('re-forget passes on the tiny LLaVA', { timeout: 20 * 60_000 }, () => {
  let e2e: E2eStack;
  let subject: string;

  before(async () => {
    [subject] = knownSubjects(1);
    e2e = await startE2eStack(lineage);
    await createLineage(e2e.gql, lineage, { strategy: 'SEQUENTIAL', reforgetPasses: 2, gatePolicy: ALWAYS_PROMOTE_GATE_POLICY, hyperParameters: { maxSteps: 2 } });
  }, { timeout: STACK_START_HOOK_TIMEOUT_MS });
  after(async () => {
    await e2e?.stop();
  });

  it('chains two passes from the candidate, audits each, promotes the last and rejects the ones it continued', async () => {
    const { gql } = e2e;
    const request = await submit(gql, lineage, 'only', subject);
    const done = await waitForFinal(gql, request.id, 12 * 60_000);
    assert.equal(done.status, 'COMPLETED', `request: ${done.statusReason}`);
    assert.deepEqual(done.modelVersion, { number: 3, status: 'PROMOTED' });

    const data = await gql.ok<{ modelLineage: { reforgetPasses: number; versions: { number: number; status: string; parentNumber: number | null; requestIds: string[]; reforgottenSubjectIds: string[] }[] } }>(
      'query ($name: String!) { modelLineage(name: $name) { reforgetPasses versions { number status parentNumber requestIds reforgottenSubjectIds } } }',
      { name: lineage },
    );
    assert.equal(data.modelLineage.reforgetPasses, 2);
    const versions = Object.fromEntries(data.modelLineage.versions.map((v) => [v.number, v]));
    assert.deepEqual(
      [1, 2, 3].map((n) => ({ status: versions[n].status, parent: versions[n].parentNumber, reforgot: versions[n].reforgottenSubjectIds, requests: versions[n].requestIds })),
      [
        { status: 'REJECTED', parent: 0, reforgot: [], requests: [request.id] },
        { status: 'REJECTED', parent: 1, reforgot: [subject], requests: [request.id] },
        { status: 'PROMOTED', parent: 2, reforgot: [subject], requests: [request.id] },
      ],
    );

    // Three trainings (the operation and its two passes), each exported once and audited once.
    const starts = await activityStarts(e2e.stack.temporalAddress, lineage);
    const count = (type: string) => starts.filter((s) => s.type === type).length;
    assert.deepEqual({ unlearn: count('unlearn'), audit: count('audit'), planReforget: count('planReforget') }, { unlearn: 3, audit: 3, planReforget: 2 });
    assert.equal((await getAudit(gql, request.id)).versionNumber, 3);

    // The request went back to UNLEARNING for each pass, and says why.
    const events = (await getRequest(gql, request.id)).events.filter((e) => e.type === 'request.status_changed');
    const toUnlearning = events.filter((e) => e.data.to === 'UNLEARNING' && e.data.from === 'AUDITING');
    assert.equal(toUnlearning.length, 2, JSON.stringify(events.map((e) => [e.data.from, e.data.to])));
    toUnlearning.forEach((event, i) => assert.equal(event.reason, `re-forgetting 1 forgotten people whom the audit of version ${i + 1} finds above 0.2: ${subject}`));

    // The decrypted forget sets of the passes are gone once they have trained.
    const forgetSets = path.join(e2e.stack.dataDir, 'artifacts', 'forget-sets');
    const left = fs.existsSync(forgetSets) ? fs.readdirSync(forgetSets).filter((name) => name.startsWith('reforget-')) : [];
    assert.deepEqual(left, []);
  });
});
