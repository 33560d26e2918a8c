// Re-forget passes on the real parts: the tiny LLaVA trains a pass from the candidate's adapter, it is
// exported and audited on onnxruntime-node, and the lineage keeps one candidate. Two training steps a
// version leave the person well above the default limit of 0.2, so every audit finds them again and both passes run, and
// above the goal of 0.4, so the three goal passes run too and none leaves fewer above it; the
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
    await createLineage(e2e.gql, lineage, { strategy: 'SEQUENTIAL', reforgetPasses: 2, gatePolicy: ALWAYS_PROMOTE_GATE_POLICY, experimental: { maxSteps: 2 } });
  }, { timeout: STACK_START_HOOK_TIMEOUT_MS });
  after(async () => {
    await e2e?.stop();
  });

  it('chains two passes from the candidate, audits each, promotes the last, rejects the ones it continued and the goal passes that did not help', async () => {
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
      [1, 2, 3, 4, 5, 6].map((n) => ({ status: versions[n].status, parent: versions[n].parentNumber, reforgot: versions[n].reforgottenSubjectIds, requests: versions[n].requestIds })),
      [
        { status: 'REJECTED', parent: 0, reforgot: [], requests: [request.id] },
        { status: 'REJECTED', parent: 1, reforgot: [subject], requests: [request.id] },
        { status: 'PROMOTED', parent: 2, reforgot: [subject], requests: [request.id] },
        // The goal passes, each from the kept candidate with a seed of its own.
        ...[4, 5, 6].map(() => ({ status: 'REJECTED', parent: 3, reforgot: [subject], requests: [request.id] })),
      ],
    );

    // Six trainings (the operation, its two passes and three goal passes), each exported once and audited once.
    const starts = await activityStarts(e2e.stack.temporalAddress, lineage);
    const count = (type: string) => starts.filter((s) => s.type === type).length;
    assert.deepEqual({ unlearn: count('unlearn'), audit: count('audit'), planReforget: count('planReforget') }, { unlearn: 6, audit: 6, planReforget: 5 });
    assert.equal((await getAudit(gql, request.id)).versionNumber, 3);

    // The request went back to UNLEARNING for each pass, and says why.
    const events = (await getRequest(gql, request.id)).events.filter((e) => e.type === 'request.status_changed');
    const toUnlearning = events.filter((e) => e.data.to === 'UNLEARNING' && e.data.from === 'AUDITING');
    assert.equal(toUnlearning.length, 5, JSON.stringify(events.map((e) => [e.data.from, e.data.to])));
    assert.deepEqual(toUnlearning.map((event) => event.reason), [
      `re-forgetting 1 forgotten people whom the audit of version 1 finds above 0.2: ${subject}`,
      `re-forgetting 1 forgotten people whom the audit of version 2 finds above 0.2: ${subject}`,
      ...[1, 2, 3].map(() => `re-forgetting 1 forgotten people whom the audit of version 3 finds above 0.4: ${subject}`),
    ]);

    // The decrypted forget sets of the passes are gone once they have trained.
    const forgetSets = path.join(e2e.stack.dataDir, 'artifacts', 'forget-sets');
    const left = fs.existsSync(forgetSets) ? fs.readdirSync(forgetSets).filter((name) => name.startsWith('reforget-')) : [];
    assert.deepEqual(left, []);
  });
});
