// The activity's orchestration of scoring, caching and gating, with scorers built from fixed
// answers. The same activity on the real tiny model + ONNX export: audit-activity-e2e.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuditActivities, ScorerOptions } from '../../src/audits/application/audit-activities';
import { AuditInput } from '../../src/audits/domain/audit-activity';
import { AuditError } from '../../src/audits/domain/audit-error';
import { EvalItem, McScorer } from '../../src/audits/domain/eval-item';
import { noKnowledgeFound } from '../../src/audits/domain/forgetting-rules';
import { ProbeProfile, ProbeWorld } from '../../src/audits/domain/profile-probes';
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
    // version 0 over 12 questions, then the candidate over those and the 6 of the forgotten and never-seen people
    // asked again in the other prompt format, in batches of 3; then their 3 text questions asked without options.
    assert.deepEqual(opened.map((o) => o.adapter?.path ?? null), [null, 'forget:s1']);
    assert.deepEqual(heartbeats.map((h) => h.scored), [3, 6, 9, 12, 3, 6, 9, 12, 15, 18, 3]);
    assert.deepEqual([out.metrics!.freeForm!.forget, out.metrics!.freeForm!.reference], [{ asked: 1, recalled: 0 }, { asked: 2, recalled: 0 }]);
    assert.ok(out.checks.filter((c) => c.rule === 'FREE_FORM').length === 2 && out.checks.every((c) => c.passed));
    const other = out.metrics!.otherFormats!.mllmu!;
    assert.deepEqual([other.forget.multimodal.total, other.forget.text.accuracy, other.forgetting.forget.text.referenceN], [1, 0, 2]);
    assert.ok(out.checks.some((c) => c.metric === 'otherFormats.mllmu.forget.text.accuracy' && c.passed));
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
    assert.deepEqual(out.checks.filter((c) => !c.passed).map((c) => c.metric), [
      'cumulativeForget.multimodal.accuracy', 'cumulativeForget.text.accuracy',
      'otherFormats.mllmu.cumulativeForget.multimodal.accuracy', 'otherFormats.mllmu.cumulativeForget.text.accuracy',
    ]);
    assert.equal(out.escalation!.direction, 'STRENGTHEN_FORGETTING');
    assert.equal(out.metrics!.cumulativeForget.multimodal.accuracy, 0.5);
    assert.equal(out.metrics!.forget.text.deltaFromParent, -1); // v1 still knew s2
  });

  it('scores the general set under CircularEval when the policy asks for it', async () => {
    const { activities, scored } = world();
    const out = await activities.audit(input({ gatePolicy: { general: { circularEval: true } } }));
    assert.equal(out.metrics!.scope.circularEval, true);
    // 10 person and general questions, 4 rotations of each general one, 6 person questions in the other format.
    assert.equal(out.metrics!.scoredQuestions, 10 + 2 * 4 + 6);
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
    // Accuracy and forgetting rules, and the free-form probe of both scopes: no questions to ask.
    assert.equal(out.reasons.length, 7 + 12 + 2);
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

describe('audit activity with an inline profile', () => {
  const people = [
    { id: 's1', name: 'Sam One', knowledge: 'FINETUNED' },
    { id: 's2', name: 'Sue Two', knowledge: 'FINETUNED' },
    { id: 's3', name: 'Sid Three', knowledge: 'FINETUNED' },
    { id: 'n1', name: 'Nia Four', knowledge: 'NEVER_SEEN' },
    { id: 'n2', name: 'Ned Five', knowledge: 'NEVER_SEEN' },
    { id: 'n3', name: 'Noa Six', knowledge: 'NEVER_SEEN' },
  ];
  // The probe world: one question kind ("What is X's job?") every person answers, so facts of that kind get distractors.
  const probeWorld: ProbeWorld = {
    subjects: people.map((p) => ({ ...p, portrait: `/dataset/lethe/images/${p.id}.png` })),
    evalItems: people.map((p) => ({
      ...personItem(`${p.id}-job`, p.id, 'text'), split: p.knowledge === 'NEVER_SEEN' ? 'never_seen' as const : 'fictional' as const,
      question: `What is ${p.name}'s job?`, options: { A: `job of ${p.id}`, B: 'x', C: 'y', D: 'z' },
    })),
  };
  const profile: ProbeProfile = { subjectId: 'profile:r1', name: 'Pia Inline', facts: [{ question: "What is Pia Inline's job?", answer: 'baker' }], images: ['/forget-sets/step/r1-0.png'] };

  function profileWorld(profiles: ProbeProfile[] = [profile]) {
    const opened: ScorerOptions[] = [];
    const scored: EvalItem[][] = [];
    const activities = createAuditActivities({
      openScorer(options) {
        opened.push(options);
        const forgotten = options.adapter ? options.adapter.path.replace('forget:', '').split(',') : [];
        return contentScorer((item) => item.split !== 'never_seen' && !forgotten.includes(item.subjectId ?? ''), scored);
      },
      loadEvalItems: async () => items,
      loadProbeWorld: () => probeWorld,
      loadInlineProfiles: (file, requestIds) => {
        assert.equal(file, '/forget-sets/step/forget-set.json');
        return profiles.filter((p) => requestIds.map((id) => `profile:${id}`).includes(p.subjectId));
      },
      batchSize: 100,
    });
    return { activities, opened, scored };
  }
  const profileInput = (overrides: Partial<AuditInput> = {}) =>
    input({ adapter: { path: 'forget:profile:r1', sha256: SHA }, forgetSubjectIds: [], inlineProfiles: { forgetSetFile: '/forget-sets/step/forget-set.json', requestIds: ['r1'] }, ...overrides });

  it('probes the profile on version 0 and the candidate, against never-seen people asked the same way', async () => {
    const { activities, opened, scored } = profileWorld();
    const out = await activities.audit(profileInput());
    assert.equal(out.auditError, null);
    assert.equal(out.decision, 'PASS', out.reasons.join('; '));
    assert.deepEqual(out.metrics!.scope.forgetSubjectIds, ['profile:r1']);
    // The fact text-only, the fact with the image, the name on the image.
    assert.deepEqual([out.metrics!.forget.text.total, out.metrics!.forget.multimodal.total], [1, 2]);
    assert.deepEqual([out.metrics!.forget.text.accuracy, out.baseline!.forget.text.accuracy, out.baseline!.forget.multimodal.accuracy], [0, 1, 1]);
    // The reference is the never-seen people's probes (3 people x 1 text, 2 image questions), not their eval questions.
    const evidence = out.metrics!.forgetting!;
    assert.equal(evidence.missingReference, null);
    assert.deepEqual([evidence.reference.subjects, evidence.forget.text.referenceN, evidence.forget.multimodal.referenceN], [3, 3, 6]);
    assert.equal(evidence.forget.text.forgetQuality!.pValue, 1);
    // Probes are nobody to retain; the dataset people are.
    assert.equal(out.metrics!.retain.text.total, 3);
    // Version 0 (eval set), version 0 (probes), the candidate (eval set and probes).
    assert.deepEqual(opened.map((o) => o.adapter?.path ?? null), [null, null, 'forget:profile:r1']);
    assert.equal(scored[1].length, 3 + 9);
    // A second attempt of the step reuses version 0's probe scores.
    await activities.audit(profileInput({ versionNumber: 2, attempt: 2, baseline: out.baseline }));
    assert.deepEqual(opened.map((o) => o.adapter?.path ?? null), [null, null, 'forget:profile:r1', 'forget:profile:r1']);
  });

  it('version 0 of an unknown person answers like the never-seen: the numbers say so', async () => {
    // A scorer that knows no one: the profile's probes look like the reference on version 0.
    const out = await createAuditActivities({
      openScorer: () => contentScorer((item) => item.split === 'fictional'),
      loadEvalItems: async () => items,
      loadProbeWorld: () => probeWorld,
      loadInlineProfiles: () => [profile],
    }).audit(profileInput());
    assert.equal(out.auditError, null);
    assert.equal(out.baseline!.forgetting!.forget.text.forgetQuality!.pValue, 1);
    assert.equal(noKnowledgeFound(out.baseline, out.gatePolicy), true);
  });

  it('fails closed (REVIEW) when the profile gives nothing to ask', async () => {
    const bare: ProbeProfile = { ...profile, images: [], facts: [{ question: 'Favourite colour?', answer: 'red' }] };
    const { activities } = profileWorld([bare]);
    const out = await activities.audit(profileInput());
    assert.equal(out.decision, 'REVIEW');
    assert.equal(out.auditError!.reason, 'PROFILE_NOT_PROBED');
    assert.match(out.auditError!.message, /profile:r1: no probe question/);
  });

  it('accepts a candidate whose only person is inline, and names a bad profile reference', async () => {
    const { activities } = profileWorld();
    await assert.rejects(activities.audit(profileInput({ inlineProfiles: { forgetSetFile: '', requestIds: ['r1'] } })), (e: unknown) => e instanceof AuditError && e.field === 'inlineProfiles.forgetSetFile');
    await assert.rejects(activities.audit(profileInput({ inlineProfiles: { forgetSetFile: '/f', requestIds: [] } })), (e: unknown) => e instanceof AuditError && e.field === 'forgetSubjectIds');
  });
});
