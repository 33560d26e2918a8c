// The activity's orchestration of scoring, caching and gating, with scorers built from fixed
// answers. The same activity on the real tiny model + ONNX export: audit-activity-e2e.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuditActivities, ScorerOptions } from '../../src/audits/application/audit-activities';
import { AuditInput } from '../../src/audits/domain/audit-activity';
import { AuditError } from '../../src/audits/domain/audit-error';
import { EvalItem, McScorer } from '../../src/audits/domain/eval-item';
import { contentScorer, generalItem, neverSeenItem, personItem } from './fixtures';

const items: EvalItem[] = [
  ...['s1', 's2', 's3'].flatMap((s) => [personItem(`${s}-m`, s, 'multimodal'), personItem(`${s}-t`, s, 'text')]),
  // People no version ever knew: the reference for the forgetting rules.
  ...['n1', 'n2'].flatMap((s) => [neverSeenItem(`${s}-m`, s, 'multimodal'), neverSeenItem(`${s}-t`, s, 'text')]),
  generalItem('g1', 'color'),
  generalItem('g2', 'count'),
];

const SHA = 'a'.repeat(64);

/** Version 0 knows everything; an adapter at path "forget:<ids>" forgets those subjects. */
function world(evalItems: EvalItem[] = items) {
  const opened: ScorerOptions[] = [];
  const scored: EvalItem[][] = [];
  const heartbeats: Array<{ scored: number; total: number }> = [];
  const activities = createAuditActivities({
    openScorer(options) {
      opened.push(options);
      const forgotten = options.adapter ? options.adapter.path.replace('forget:', '').split(',') : [];
      return contentScorer((item) => item.split !== 'never_seen' && !forgotten.includes(item.subjectId ?? ''), scored);
    },
    loadEvalItems: async () => evalItems,
    heartbeat: (p) => heartbeats.push(p),
    batchSize: 3,
  });
  return { activities, opened, scored, heartbeats };
}

function input(overrides: Partial<AuditInput> = {}): AuditInput {
  return {
    lineage: 'default',
    versionNumber: 1,
    exportDir: '/export',
    modelDir: '/model',
    datasetDir: '/dataset',
    adapter: { path: 'forget:s1', sha256: SHA },
    forgetSubjectIds: ['s1'],
    cumulativeForgetSubjectIds: [],
    baseline: null,
    parentMetrics: null,
    gatePolicy: {},
    attempt: 1,
    ...overrides,
  };
}

describe('audit activity', () => {
  it('promotes a candidate that forgot its subject in both modalities and kept the rest', async () => {
    const { activities, opened, heartbeats } = world();
    const out = await activities.audit(input());
    assert.equal(out.decision, 'PASS', out.reasons.join('; '));
    assert.equal(out.auditError, null);
    assert.deepEqual([out.metrics!.forget.multimodal.accuracy, out.metrics!.forget.text.accuracy], [0, 0]);
    assert.deepEqual([out.metrics!.forget.multimodal.ofBaseline, out.metrics!.retain.text.ofBaseline], [1, 1]);
    assert.equal(out.baseline!.forget.multimodal.accuracy, 1);
    assert.equal(out.adapterSha256, SHA);
    assert.equal(out.gatePolicy!.version, 1);
    // version 0 then the candidate, each over 12 questions in batches of 3.
    assert.deepEqual(opened.map((o) => o.adapter?.path ?? null), [null, 'forget:s1']);
    assert.deepEqual(heartbeats.map((h) => h.scored), [3, 6, 9, 12, 3, 6, 9, 12]);
    // The forgotten person answers like the never-seen people; version 0 knew them.
    const evidence = out.metrics!.forgetting!;
    assert.deepEqual([evidence.forget.text.n, evidence.forget.text.referenceN, evidence.reference.subjects], [1, 2, 2]);
    assert.equal(evidence.forget.text.forgetQuality!.pValue, 1);
    assert.equal(evidence.forget.multimodal.miaAuc!.auc, 0.5);
    assert.equal(out.baseline!.forgetting!.forget.text.miaAuc!.auc, 1);
    assert.ok(out.checks.some((c) => c.rule === 'MIA_AUC' && c.passed));
  });

  it('scores version 0 once per lineage and re-cuts it for later requests', async () => {
    const { activities, opened } = world();
    await activities.audit(input());
    // Version 2 forgets s2 on top of s1; its audit needs version 0's s2 numbers.
    const out = await activities.audit(
      input({ versionNumber: 2, adapter: { path: 'forget:s1,s2', sha256: SHA }, forgetSubjectIds: ['s2'], cumulativeForgetSubjectIds: ['s1'] }),
    );
    assert.deepEqual(opened.map((o) => o.adapter?.path ?? null), [null, 'forget:s1', 'forget:s1,s2']);
    assert.equal(out.decision, 'PASS');
    assert.equal(out.metrics!.cumulativeForget.text.total, 2);
    assert.equal(out.baseline!.forget.text.accuracy, 1);
  });

  it('uses a stored baseline instead of scoring version 0, and relates to the parent', async () => {
    const first = world();
    const v1 = await first.activities.audit(input());
    const { activities, opened } = world();
    // Version 2 brought s1 back (a sequential collapse of sustainability). These worlds ask one
    // question per subject and modality: 1 of 2 right is what a guesser gets 44% of the time, so
    // the default significance (0.05) would excuse it; at 0.5 the cumulative checks must fail.
    const out = await activities.audit(
      input({ versionNumber: 2, adapter: { path: 'forget:s2', sha256: SHA }, forgetSubjectIds: ['s2'], cumulativeForgetSubjectIds: ['s1'], baseline: v1.baseline, parentMetrics: v1.metrics, gatePolicy: { forget: { significance: 0.5 } } }),
    );
    assert.deepEqual(opened.map((o) => o.adapter?.path), ['forget:s2']);
    assert.equal(out.decision, 'FAIL');
    assert.deepEqual(out.checks.filter((c) => !c.passed).map((c) => c.metric), ['cumulativeForget.multimodal.accuracy', 'cumulativeForget.text.accuracy']);
    assert.equal(out.escalation!.direction, 'STRENGTHEN_FORGETTING');
    assert.equal(out.metrics!.cumulativeForget.multimodal.accuracy, 0.5);
    assert.equal(out.metrics!.forget.text.deltaFromParent, -1); // v1 still knew s2
  });

  it('scores the general set under CircularEval when the policy asks for it', async () => {
    const { activities, scored } = world();
    const out = await activities.audit(input({ gatePolicy: { general: { circularEval: true } } }));
    assert.equal(out.metrics!.scope.circularEval, true);
    assert.equal(out.metrics!.scoredQuestions, 10 + 2 * 4);
    assert.equal(scored.flat().filter((i) => i.split === 'general').length, 2 * 2 * 4);
  });

  it('fails closed on a scorer error (e.g. an adapter sha256 mismatch) and retries version 0 next time', async () => {
    let failVersionZero = true;
    const activities = createAuditActivities({
      openScorer(options): McScorer {
        if (options.adapter === null && failVersionZero) throw new Error('graph load failed');
        if (options.adapter?.sha256 === SHA) throw new Error(`adapter sha256 mismatch for ${options.adapter.path}`);
        return contentScorer(() => true);
      },
      loadEvalItems: () => items,
    });
    const a = await activities.audit(input());
    assert.equal(a.decision, 'REVIEW');
    assert.match(a.reasons[0], /graph load failed/);
    failVersionZero = false;
    const b = await activities.audit(input());
    assert.equal(b.decision, 'REVIEW');
    assert.equal(b.metrics, null);
    assert.match(b.auditError!.message, /sha256 mismatch/);
  });

  it('fails closed when the scorer skips a question', async () => {
    const activities = createAuditActivities({
      openScorer: () => ({ score: async (xs) => (await contentScorer(() => true).score(xs)).slice(1), close: async () => {} }),
      loadEvalItems: () => items,
    });
    const out = await activities.audit(input());
    assert.equal(out.decision, 'REVIEW');
    assert.equal(out.auditError!.reason, 'SCORING_INCOMPLETE');
  });

  it('fails closed on an empty eval set', async () => {
    const { activities } = world([]);
    const out = await activities.audit(input());
    assert.equal(out.decision, 'REVIEW');
    assert.ok(out.reasons.every((r) => /is missing/.test(r)));
    assert.equal(out.reasons.length, 7 + 12);
  });

  it('fails closed on an invalid gate policy without scoring anything', async () => {
    const { activities, opened } = world();
    const out = await activities.audit(input({ gatePolicy: { retain: { minFractionOfBaseline: 2 } } }));
    assert.equal(out.decision, 'REVIEW');
    assert.equal(out.gatePolicy, null);
    assert.equal(out.auditError!.reason, 'INVALID_GATE_POLICY');
    assert.match(out.reasons[0], /gatePolicy\.retain\.minFractionOfBaseline/);
    assert.equal(opened.length, 0);
  });

  it('rejects a malformed input naming the field', async () => {
    const { activities } = world();
    const cases: Array<[Partial<AuditInput>, string]> = [
      [{ adapter: { path: 'x', sha256: 'nothex' } }, 'adapter.sha256'],
      [{ adapter: null }, 'adapter'],
      [{ forgetSubjectIds: [] }, 'forgetSubjectIds'],
      [{ cumulativeForgetSubjectIds: [3 as unknown as string] }, 'cumulativeForgetSubjectIds[0]'],
      [{ attempt: 0 }, 'attempt'],
      [{ datasetDir: '' }, 'datasetDir'],
    ];
    for (const [bad, field] of cases) {
      await assert.rejects(activities.audit(input(bad)), (e: unknown) => e instanceof AuditError && e.field === field);
    }
  });
});
