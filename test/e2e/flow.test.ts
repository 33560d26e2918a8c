// End to end on the real parts: GraphQL -> Temporal lineage workflow -> Python unlearning of the
// tiny LLaVA -> ONNX export -> PULSE audit on onnxruntime-node -> gate -> promotion, then a second
// request on top, a rollback that reopens it, and its redo; for both strategies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLineage, getAudit, getLineage, getRequest, knownSubjects, startE2eStack, STACK_START_HOOK_TIMEOUT_MS, submit, waitForFinal, type E2eStack } from './harness';

const REQUEST_TIMEOUT_MS = 6 * 60_000;

// The lineages run on the service's unlearning defaults and the default gate's accuracy rules (forget at chance in
// both modalities, for this request and cumulatively; retain >= 85 % and general >= 90 % of version 0), with the
// forgetting rules against never-seen people turned off: the default strategy does not pass them on the tiny model
// yet (docs/research/never-seen-teacher.md), and this test is about the lineage's steps, rollback and redo. The
// forgetting rules are exercised on the real runtime by test/audits/audit-activity-e2e.test.ts and
// test/e2e/inline-profile.test.ts. A version is only promoted when this gate passes: each PASS is the audit's verdict.
const ACCURACY_RULES_ONLY = { forget: { minForgetQuality: 0, maxMiaAucDistance: 0.5, refuseBelowChance: false, freeFormProbe: false } };
function assertAudited(audit: Awaited<ReturnType<typeof getAudit>>, label: string): void {
  assert.equal(audit.decision, 'PASS', `${label}: gate decision (reasons: ${audit.reasons.join('; ')})`);
  const base = audit.baseline!;
  assert.ok(base, `${label}: the report carries the base model's scores`);
  for (const [name, m] of Object.entries({ forget: audit.forget, retain: audit.retain, baseForget: base.forget, baseRetain: base.retain })) {
    assert.equal(typeof m.multimodal, 'number', `${label}: ${name} has a multimodal accuracy`);
    assert.equal(typeof m.text, 'number', `${label}: ${name} has a text-only accuracy`);
  }
  for (const m of ['multimodal', 'text'] as const) {
    assert.ok(audit.forget[m]! < base.forget[m]!, `${label}: ${m} forget accuracy ${audit.forget[m]} should be below the base model's ${base.forget[m]}`);
  }
  assert.equal(typeof audit.general, 'number', `${label}: general accuracy is reported`);
}

for (const [index, strategy] of (['SEQUENTIAL', 'CUMULATIVE'] as const).entries()) {
  describe(`deletion requests end to end, strategy ${strategy}`, { timeout: 25 * 60_000 }, () => {
    let e2e: E2eStack;
    let subjects: string[];
    const lineage = `flow-${strategy.toLowerCase()}`;

    before(async () => {
      // People the base model knows, two per strategy, so that their forgetting shows.
      subjects = knownSubjects(4).slice(2 * index, 2 * index + 2);
      e2e = await startE2eStack(lineage);
      await createLineage(e2e.gql, lineage, { strategy, gatePolicy: ACCURACY_RULES_ONLY });
    }, { timeout: STACK_START_HOOK_TIMEOUT_MS });
    after(async () => {
      await e2e?.stop();
    });

    it('promotes version 1, stacks version 2 whose audit also measures the first subject, and redoes the second request as version 3 after a rollback', async () => {
      const { gql } = e2e;
      const first = await submit(gql, lineage, 'first', subjects[0]);
      assert.equal(first.status, 'RECEIVED', 'answered once stored; the outbox queues it');
      const done1 = await waitForFinal(gql, first.id, REQUEST_TIMEOUT_MS);
      assert.equal(done1.status, 'COMPLETED', `first request: ${done1.statusReason}`);
      assert.deepEqual(done1.modelVersion, { number: 1, status: 'PROMOTED' });
      assertAudited(await getAudit(gql, first.id), 'version 1');

      const second = await submit(gql, lineage, 'second', subjects[1]);
      const done2 = await waitForFinal(gql, second.id, REQUEST_TIMEOUT_MS);
      assert.equal(done2.status, 'COMPLETED', `second request: ${done2.statusReason}`);
      assert.deepEqual(done2.modelVersion, { number: 2, status: 'PROMOTED' });
      const audit2 = await getAudit(gql, second.id);
      assertAudited(audit2, 'version 2');
      // Version 2's audit also measures the first subject (cumulative forget), in both modalities.
      assert.equal(typeof audit2.cumulativeForget.text, 'number', 'cumulative text forget is measured');
      assert.equal(typeof audit2.cumulativeForget.multimodal, 'number', 'cumulative multimodal forget is measured');
      let view = await getLineage(gql, lineage);
      const v2 = view.versions.find((v) => v.number === 2)!;
      // Sequential continues the champion; cumulative retrains from the base on the union.
      assert.equal(v2.parentNumber, strategy === 'SEQUENTIAL' ? 1 : null);
      // A version lists the requests it carried out; a cumulative retrain's union of forget sets is checked
      // on the unlearn payload by test/orchestration/control-plane.test.ts.
      assert.deepEqual(v2.requestIds, [second.id]);

      const rolled = await gql.ok('mutation { rollbackModel(lineage: "' + lineage + '", toVersion: 1, reason: "e2e: version 2 misbehaves") { championVersion } }');
      assert.equal(rolled.rollbackModel.championVersion, 1);
      const reopened = await getRequest(gql, second.id);
      assert.ok(['REOPENED', 'QUEUED', 'UNLEARNING', 'AUDITING'].includes(reopened.status), `second request after rollback: ${reopened.status}`);
      assert.ok(reopened.events.some((e) => e.type === 'request.status_changed' && e.data.to === 'REOPENED'), 'a REOPENED event is in the request history');

      const redone = await waitForFinal(gql, second.id, REQUEST_TIMEOUT_MS, (r) => r.status === 'COMPLETED' || r.status === 'FAILED' || r.status === 'NEEDS_REVIEW');
      assert.equal(redone.status, 'COMPLETED', `second request redone: ${redone.statusReason}`);
      assert.deepEqual(redone.modelVersion, { number: 3, status: 'PROMOTED' });
      view = await getLineage(gql, lineage);
      assert.equal(view.championVersion, 3);
      const statuses = Object.fromEntries(view.versions.map((v) => [v.number, v.status]));
      assert.deepEqual(statuses, { 0: 'SUPERSEDED', 1: 'SUPERSEDED', 2: 'ROLLED_BACK', 3: 'PROMOTED' });
      if (strategy === 'SEQUENTIAL') assert.equal(view.versions.find((v) => v.number === 3)!.parentNumber, 1);
      const chain = await gql.ok('{ verifyEventChain { valid problem } }');
      assert.equal(chain.verifyEventChain.valid, true, chain.verifyEventChain.problem);
    });
  });
}
