// The forgetting rules of the gate on simulated models: forgotten people scored like never-seen ones,
// still known, or answered reliably wrong; small and large sets; datasets without never-seen people.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideGate } from '../../src/audits/domain/decision';
import { EvalItem, Modality, MODALITIES, OPTION_LETTERS, OptionLetter, rightOptionScore, ScoredItem } from '../../src/audits/domain/eval-item';
import { NO_NEVER_SEEN_PEOPLE } from '../../src/audits/domain/forgetting-evidence';
import { forgettingChecks, noKnowledgeFound } from '../../src/audits/domain/forgetting-rules';
import { DEFAULT_GATE_POLICY, parseGatePolicy } from '../../src/audits/domain/gate-policy';
import { AuditMetrics, computeRawMetrics, metricsForScope, otherFormatItems } from '../../src/audits/domain/metrics';
import { FREE_FORM_REFERENCE_QUESTIONS, freeFormMetrics, freeFormNotAsked, freeFormQuestions, recalls } from '../../src/audits/domain/free-form';
import { random } from '../../src/common/seeded-random';
import { personItem } from './fixtures';

function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const QUESTIONS = 5;

/** A person's questions, 5 per modality; never-seen people's are of split never_seen. */
function questionsOf(subjectId: string, neverSeen = false): EvalItem[] {
  return MODALITIES.flatMap((m: Modality) =>
    Array.from({ length: QUESTIONS }, (_, q) => ({ ...personItem(`${subjectId}-${m}-${q}`, subjectId, m, 'A'), ...(neverSeen ? { split: 'never_seen' as const } : {}) })),
  );
}

/**
 * One model version: every option's logit is noise; `knowledge(subjectId)` is added to the right option's
 * (0 = the model never saw the person, > 0 still knows, < 0 answers reliably wrong).
 */
function audit(forgotten: string[], knowledge: (subjectId: string, item: EvalItem) => number, seed: number, neverSeenPeople = 50, askOtherFormats = false): AuditMetrics {
  const neverSeen = Array.from({ length: neverSeenPeople }, (_, i) => `n${i}`);
  const scope = { forgetSubjectIds: forgotten, cumulativeForgetSubjectIds: forgotten, retainSubjectIds: null, circularEval: false };
  const asked = [...forgotten.flatMap((s) => questionsOf(s)), ...questionsOf('r1'), ...neverSeen.flatMap((s) => questionsOf(s, true))];
  const items = askOtherFormats ? [...asked, ...otherFormatItems(asked, scope)] : asked;
  const rand = random(seed);
  const scores = items.map((item): ScoredItem => {
    const logits = Object.fromEntries(OPTION_LETTERS.map((l) => [l, normal(rand) + (l === item.answer ? knowledge(item.subjectId!, item) : 0)])) as Record<OptionLetter, number>;
    const predicted = OPTION_LETTERS.reduce((best, l) => (logits[l] > logits[best] ? l : best), 'A' as OptionLetter);
    return { id: item.id, logits, predicted, correct: predicted === item.answer, ...rightOptionScore(logits, item.answer) };
  });
  return computeRawMetrics(items, items, scores, scope);
}

const failed = (m: AuditMetrics, rule: string, policy = DEFAULT_GATE_POLICY) => forgettingChecks(m, policy).filter((c) => c.rule === rule && !c.passed);

describe('forgetting rules on simulated models', () => {
  it('does not fail a one-person request that forgot perfectly by chance, where a fixed AUC band would', () => {
    const runs = 300;
    let aucFailures = 0;
    let ksFailures = 0;
    let fixedBandFailures = 0;
    for (let seed = 1; seed <= runs; seed++) {
      const m = audit(['f1'], () => 0, seed);
      // Only this request's multimodal numbers: one test per run.
      aucFailures += failed(m, 'MIA_AUC').some((c) => c.metric === 'forgetting.forget.multimodal.miaAuc') ? 1 : 0;
      ksFailures += failed(m, 'FORGET_QUALITY').some((c) => c.metric === 'forgetting.forget.multimodal.forgetQuality') ? 1 : 0;
      fixedBandFailures += Math.abs(m.forgetting!.forget.multimodal.miaAuc!.auc - 0.5) > 0.1 ? 1 : 0;
    }
    assert.ok(aucFailures / runs <= 0.06, `the AUC rule failed ${aucFailures} of ${runs} perfect forgetters`);
    assert.ok(ksFailures / runs <= 0.06, `forget quality failed ${ksFailures} of ${runs} perfect forgetters`);
    assert.ok(fixedBandFailures / runs >= 0.3, `a fixed band |AUC - 0.5| <= 0.1 would fail ${fixedBandFailures} of ${runs}`);
  });

  it('passes every rule for people forgotten like never seen and reports the sizes', () => {
    const m = audit(['f1', 'f2'], () => 0, 7);
    const checks = forgettingChecks(m, DEFAULT_GATE_POLICY);
    assert.equal(checks.length, 12);
    assert.deepEqual(checks.filter((c) => !c.passed).map((c) => c.detail), []);
    const auc = checks.find((c) => c.metric === 'forgetting.cumulativeForget.text.miaAuc')!;
    assert.deepEqual([auc.n, auc.referenceN], [10, 250]);
    assert.ok(auc.interval![0] < auc.value! && auc.value! < auc.interval![1]);
    assert.match(auc.detail!, /10 forgotten vs 250 never-seen questions\) reaches into 0\.5 ± 0\.1/);
    // Never-seen people are the reference, not people whose knowledge must be kept.
    assert.equal(m.retain.text.total, QUESTIONS);
    assert.equal(m.forgetting!.reference.subjects, 50);
  });

  it('fails forget quality and the AUC when the forgotten are still known (knowledge pushed down, not removed)', () => {
    const m = audit(Array.from({ length: 10 }, (_, i) => `f${i}`), (s) => (s.startsWith('f') ? 1.5 : 0), 3);
    assert.equal(failed(m, 'FORGET_QUALITY').length, 4);
    const auc = failed(m, 'MIA_AUC');
    assert.equal(auc.length, 4);
    assert.ok(auc.every((c) => c.value! > 0.6));
    assert.match(auc[0].detail!, /still recognisably known \(MIA_AUC\)/);
    const shares = m.forgetting!.forget.text.rankShares!;
    assert.ok(shares[0] > 0.5, `right answer first in ${shares[0]}`);
  });

  it('fails the AUC and below-chance rules when the forgotten are answered reliably wrong (over-unlearning)', () => {
    const m = audit(Array.from({ length: 10 }, (_, i) => `f${i}`), (s) => (s.startsWith('f') ? -3 : 0), 5);
    const auc = failed(m, 'MIA_AUC');
    assert.equal(auc.length, 4);
    assert.match(auc[0].detail!, /answered worse than people never seen: the deletion shows/);
    const below = failed(m, 'BELOW_CHANCE');
    assert.equal(below.length, 4);
    assert.ok(below.every((c) => c.pValue! < 0.05 && c.n === 50));
    assert.match(below[0].detail!, /reveals the deletion \(BELOW_CHANCE\)/);
    // The accuracy rule alone would promote this model.
    const out = decideGate({ metrics: m, policy: DEFAULT_GATE_POLICY });
    assert.ok(out.checks.filter((c) => c.rule === 'FORGET' || c.rule === 'CUMULATIVE_FORGET').every((c) => c.passed));
    assert.notEqual(out.decision, 'PASS');
  });

  it('cannot pass without never-seen people, and says why', () => {
    const m = audit(['f1'], () => 0, 11, 0);
    assert.equal(m.forgetting!.missingReference, NO_NEVER_SEEN_PEOPLE);
    const out = decideGate({ metrics: m, policy: DEFAULT_GATE_POLICY });
    assert.equal(out.decision, 'REVIEW');
    assert.ok(out.reasons.some((r) => r.includes('forgetting.forget.text.forgetQuality is missing') && r.includes('no never-seen people')), out.reasons.join('\n'));
    // Below chance needs no reference: it is still decided.
    assert.ok(out.checks.filter((c) => c.rule === 'BELOW_CHANCE').every((c) => c.value !== null));
  });

  it('checks only the rules the policy turns on', () => {
    const m = audit(['f1'], () => 0, 11, 0);
    const off = parseGatePolicy({ forget: { minForgetQuality: 0, maxMiaAucDistance: 0.5, refuseBelowChance: false } });
    assert.deepEqual(forgettingChecks(m, off), []);
    const onlyAuc = parseGatePolicy({ forget: { minForgetQuality: 0, refuseBelowChance: false } });
    assert.deepEqual([...new Set(forgettingChecks(m, onlyAuc).map((c) => c.rule))], ['MIA_AUC']);
  });

  it('fails closed on audits recorded before forgetting was measured', () => {
    const m = audit(['f1'], () => 0, 2);
    delete m.forgetting;
    const checks = forgettingChecks(m, DEFAULT_GATE_POLICY);
    assert.ok(checks.length === 12 && checks.every((c) => !c.passed && c.value === null));
  });

  it('finds no knowledge when version 0 answers a person like people it never saw', () => {
    assert.equal(noKnowledgeFound(audit(['f1'], () => 0, 13), DEFAULT_GATE_POLICY), true);
    assert.equal(noKnowledgeFound(audit(['f1'], () => 4, 13), DEFAULT_GATE_POLICY), false);
    assert.equal(noKnowledgeFound(audit(['f1'], () => 0, 13, 0), DEFAULT_GATE_POLICY), false, 'no reference: no claim');
    assert.equal(noKnowledgeFound(audit(['f1'], () => 0, 13), null), false);
  });
});

describe('forgetting asked in a prompt format no unlearning example uses', () => {
  const forgotten = Array.from({ length: 10 }, (_, i) => `f${i}`);
  // Still known when asked the other way: what forgetting a prompt format, not the person, looks like.
  const formatOnly = (subjectId: string, item: EvalItem) => (subjectId.startsWith('f') && item.promptFormat === 'mllmu' ? 3 : 0);

  it('copies the questions of the forgotten and never-seen people only, once per other format', () => {
    const items = [...questionsOf('f1'), ...questionsOf('r1'), ...questionsOf('n1', true), { ...personItem('g', 'x', 'text'), split: 'general' as const, subjectId: null }];
    const copies = otherFormatItems(items, { forgetSubjectIds: ['f1'], cumulativeForgetSubjectIds: [], retainSubjectIds: null, circularEval: false });
    assert.deepEqual([...new Set(copies.map((c) => c.subjectId))], ['f1', 'n1']);
    assert.ok(copies.every((c) => c.promptFormat === 'mllmu' && c.id.endsWith('@mllmu')));
    assert.equal(copies.length, 4 * QUESTIONS);
  });

  it('fails a model that forgot only the training prompt format, naming the format', () => {
    const m = audit(forgotten, formatOnly, 21, 50, true);
    assert.ok(m.forget.text.accuracy! < 0.4, 'the default format looks forgotten');
    // Retain and general have no version 0 here: only the forgetting checks are looked at.
    const forgettingOf = (metrics: AuditMetrics) => decideGate({ metrics, policy: DEFAULT_GATE_POLICY }).checks.filter((c) => c.rule !== 'RETAIN' && c.rule !== 'GENERAL');
    const failedChecks = forgettingOf(m).filter((c) => !c.passed);
    assert.ok(failedChecks.length > 0 && failedChecks.every((c) => c.metric.startsWith('otherFormats.mllmu.')), failedChecks.map((c) => c.metric).join(', '));
    assert.deepEqual([...new Set(failedChecks.map((c) => c.rule))].sort(), ['CUMULATIVE_FORGET', 'FORGET', 'FORGET_QUALITY', 'MIA_AUC']);
    assert.match(failedChecks.find((c) => c.rule === 'FORGET_QUALITY')!.detail!, /asked in the mllmu prompt format/);
    // Without the other format the same model would pass the forgetting rules.
    assert.ok(forgettingOf({ ...m, otherFormats: undefined }).every((c) => c.passed));
  });

  it('passes a model that forgot the people in every format, checking each rule in each', () => {
    const m = audit(forgotten, () => 0, 22, 50, true);
    const checks = forgettingChecks(m, DEFAULT_GATE_POLICY);
    assert.equal(checks.length, 24, 'three rules x two scopes x two modalities x two formats');
    assert.deepEqual(checks.filter((c) => !c.passed).map((c) => c.detail), []);
    // A re-cut to another scope keeps the other format's numbers for the new people.
    const recut = metricsForScope(m, { ...m.scope, forgetSubjectIds: ['f1'] })!;
    assert.equal(recut.otherFormats!.mllmu!.forget.text.total, QUESTIONS);
  });

  it('is a missing number, not a pass, when an audit that asks other formats lacks one', () => {
    const m = { ...audit(forgotten, () => 0, 23, 50, true), otherFormats: {} };
    const out = decideGate({ metrics: m, policy: DEFAULT_GATE_POLICY });
    assert.equal(out.decision, 'REVIEW');
    assert.ok(out.reasons.some((r) => r.startsWith('otherFormats.mllmu.forget.text.accuracy is missing')), out.reasons.join('\n'));
  });
});

describe('the free-form probe: fact questions without options', () => {
  const scope = (forgotten: string[]) => ({ forgetSubjectIds: forgotten, cumulativeForgetSubjectIds: forgotten, retainSubjectIds: null, circularEval: false });
  const items = [...['f1', 'f2', 'r1'].flatMap((s) => questionsOf(s)), ...Array.from({ length: 30 }, (_, i) => questionsOf(`n${String(i).padStart(2, '0')}`, true)).flat()];
  /** Answers stating the truth for the forgotten with probability `forgotten` and for never-seen people with `neverSeen`. */
  function probe(forgottenRate: number, neverSeenRate: number, seed = 5) {
    const rand = random(seed);
    const questions = freeFormQuestions(items, scope(['f1', 'f2']));
    const answers = questions.map((q) => ({ id: q.id, text: rand() < (q.subjectId.startsWith('f') ? forgottenRate : neverSeenRate) ? `It is ${q.truth.toUpperCase()}!` : 'no idea' }));
    const neverSeen = [...new Set(items.filter((i) => i.split === 'never_seen').map((i) => i.subjectId!))];
    return { questions, metrics: { freeForm: freeFormMetrics(questions, answers, scope(['f1', 'f2']), neverSeen) } as AuditMetrics };
  }
  const freeFormFailures = (m: AuditMetrics) => forgettingChecks(m, DEFAULT_GATE_POLICY).filter((c) => c.rule === 'FREE_FORM' && !c.passed);

  it('asks every text question of the forgotten and an even spread of the never-seen people, never a retained person', () => {
    const { questions } = probe(0, 0);
    assert.equal(questions.filter((q) => q.subjectId.startsWith('f')).length, 2 * QUESTIONS);
    assert.equal(questions.filter((q) => q.subjectId.startsWith('n')).length, FREE_FORM_REFERENCE_QUESTIONS);
    assert.equal(new Set(questions.filter((q) => q.subjectId.startsWith('n')).map((q) => q.subjectId)).size, 30, 'spread over every never-seen person');
    assert.ok(!questions.some((q) => q.subjectId === 'r1'));
  });

  it('matches the true value as whole words, whatever the case and punctuation', () => {
    assert.equal(recalls('She is a Junior  Farmer.', 'junior farmer'), true);
    assert.equal(recalls('born in 1974', '1974'), true);
    assert.equal(recalls('born in 19745', '1974'), false);
    assert.equal(recalls('a farmer, junior', 'junior farmer'), false);
    assert.equal(recalls('anything', ''), false);
  });

  it('passes forgotten people who state their facts no more often than never-seen people', () => {
    assert.deepEqual(freeFormFailures(probe(0.1, 0.1).metrics), []);
  });

  it('fails forgotten people who still state their facts, naming both rates', () => {
    const failures = freeFormFailures(probe(0.8, 0.05).metrics);
    assert.deepEqual(failures.map((c) => c.metric), ['freeForm.forget.recallRate', 'freeForm.cumulativeForget.recallRate']);
    assert.match(failures[0].detail!, /answers without options state the true value.*never-seen people \d+\/50.*\(FREE_FORM\)/);
  });

  it('is a missing number, not a pass, when the runtime could not ask it; not checked on audits from before it', () => {
    const m = { freeForm: freeFormNotAsked('this audit runtime cannot generate answers') } as AuditMetrics;
    const out = forgettingChecks(m, DEFAULT_GATE_POLICY).filter((c) => c.rule === 'FREE_FORM');
    assert.ok(out.length === 2 && out.every((c) => c.value === null && /cannot generate/.test(c.detail!)));
    assert.deepEqual(forgettingChecks({ ...probe(0.8, 0).metrics, freeForm: undefined } as AuditMetrics, DEFAULT_GATE_POLICY).filter((c) => c.rule === 'FREE_FORM'), []);
    assert.deepEqual(forgettingChecks(probe(0.8, 0).metrics, parseGatePolicy({ forget: { freeFormProbe: false } })).filter((c) => c.rule === 'FREE_FORM'), []);
  });
});
