import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuditError } from '../../src/audits/domain/audit-error';
import { circularRotations } from '../../src/audits/domain/circular-eval';
import { EvalItem, rightOptionScore, ScoredItem } from '../../src/audits/domain/eval-item';
import { AuditScope, computeRawMetrics, itemOutcomes, itemsToScore, metricsForScope, relateMetrics } from '../../src/audits/domain/metrics';
import { rankSubjectsByAccuracy, selectPretrainedTargets } from '../../src/audits/domain/target-selection';
import { contentScorer, generalItem, logitsFor, personItem } from './fixtures';

// 4 people x (2 multimodal + 2 text) + 4 general questions in 2 categories.
const people = ['s1', 's2', 's3', 's4'].flatMap((s) => [
  personItem(`${s}-m1`, s, 'multimodal'),
  personItem(`${s}-m2`, s, 'multimodal'),
  personItem(`${s}-t1`, s, 'text'),
  personItem(`${s}-t2`, s, 'text'),
]);
const general = [generalItem('g1', 'color'), generalItem('g2', 'color'), generalItem('g3', 'count'), generalItem('g4', 'count')];
const items = [...people, ...general];

const scope: AuditScope = { forgetSubjectIds: ['s1'], cumulativeForgetSubjectIds: ['s2'], retainSubjectIds: null, circularEval: false };

async function metricsWhenCorrect(correctIds: Set<string>, s: AuditScope = scope) {
  const toScore = itemsToScore(items, s.circularEval);
  const scores = await contentScorer((item) => correctIds.has(item.id)).score(toScore);
  return computeRawMetrics(items, toScore, scores, s);
}

describe('PULSE metrics on a hand-made eval set', () => {
  it('splits forget, cumulative forget, retain and general by modality and category', async () => {
    // s1: 1/2 multimodal, 0/2 text; s2: 2/2, 1/2; s3 and s4 all right; general: color 2/2, count 1/2.
    const correct = new Set(['s1-m1', 's2-m1', 's2-m2', 's2-t1', ...['s3', 's4'].flatMap((s) => [`${s}-m1`, `${s}-m2`, `${s}-t1`, `${s}-t2`]), 'g1', 'g2', 'g3']);
    const m = await metricsWhenCorrect(correct);

    assert.deepEqual([m.forget.multimodal.accuracy, m.forget.text.accuracy], [0.5, 0]);
    assert.deepEqual([m.forget.multimodal.total, m.forget.text.total], [2, 2]);
    // cumulative = s1 (this request) + s2 (earlier): multimodal 3/4, text 1/4.
    assert.deepEqual([m.cumulativeForget.multimodal.accuracy, m.cumulativeForget.text.accuracy], [0.75, 0.25]);
    // retain = everyone never forgotten: s3 and s4.
    assert.deepEqual([m.retain.multimodal.accuracy, m.retain.text.accuracy, m.retain.text.total], [1, 1, 4]);
    assert.equal(m.general.overall.accuracy, 0.75);
    assert.deepEqual(Object.keys(m.general.byCategory), ['color', 'count']);
    assert.equal(m.general.byCategory.color.accuracy, 1);
    assert.equal(m.general.byCategory.count.accuracy, 0.5);
    assert.equal(m.chanceLevel, 0.25);
    assert.equal(m.scoredQuestions, items.length);
  });

  it('restricts retain to the given subjects when the scope names them', async () => {
    const correct = new Set(['s3-m1', 's3-m2', 's3-t1', 's3-t2']);
    const m = await metricsWhenCorrect(correct, { ...scope, retainSubjectIds: ['s3'] });
    assert.equal(m.retain.multimodal.accuracy, 1);
    assert.equal(m.retain.multimodal.total, 2);
  });

  it('relates to version 0 (forget as % forgotten, others as % retained) and to the parent', async () => {
    const all = new Set(items.map((i) => i.id));
    const baseline = await metricsWhenCorrect(all);
    // Parent: knew s1 text only, general 3/4. Candidate: knows nothing of s1, retain mm 3/4, general 2/4.
    const parent = await metricsWhenCorrect(new Set([...all].filter((id) => !['s1-m1', 's1-m2', 'g4'].includes(id))));
    const candidate = await metricsWhenCorrect(
      new Set([...all].filter((id) => !id.startsWith('s1') && !id.startsWith('s2') && id !== 's3-m1' && id !== 'g3' && id !== 'g4')),
    );
    const r = relateMetrics(candidate, baseline, parent);

    assert.equal(r.forget.multimodal.ofBaseline, 1); // 1 - 0/1: fully forgotten
    assert.equal(r.forget.text.ofBaseline, 1);
    assert.equal(r.retain.multimodal.accuracy, 0.75);
    assert.equal(r.retain.multimodal.ofBaseline, 0.75); // 0.75 / 1
    assert.equal(r.retain.text.ofBaseline, 1);
    assert.equal(r.general.overall.ofBaseline, 0.5);
    assert.equal(r.general.byCategory.count.ofBaseline, 0);
    assert.equal(r.forget.text.deltaFromParent, -1); // parent answered s1's text questions
    assert.equal(r.forget.multimodal.deltaFromParent, 0);
    assert.equal(r.general.overall.deltaFromParent, -0.25);
    assert.equal(r.retain.multimodal.deltaFromParent, -0.25);
  });

  it('re-cuts version 0 for a later request without scoring it again', async () => {
    const v0 = await metricsWhenCorrect(new Set(items.filter((i) => !i.id.startsWith('s4-t')).map((i) => i.id)));
    const laterScope: AuditScope = { forgetSubjectIds: ['s4'], cumulativeForgetSubjectIds: ['s1', 's2'], retainSubjectIds: null, circularEval: false };
    const recut = metricsForScope(v0, laterScope)!;
    assert.equal(recut.forget.text.accuracy, 0); // s4's text questions were wrong at version 0
    assert.equal(recut.forget.multimodal.accuracy, 1);
    assert.equal(recut.cumulativeForget.text.total, 6); // s1, s2, s4
    assert.deepEqual([recut.retain.multimodal.total, recut.retain.text.accuracy], [2, 1]); // s3 only
    assert.equal(metricsForScope(v0, { ...laterScope, circularEval: true }), null);
  });

  it('counts the forgotten people\'s right answers that were the model\'s second choice, which the accuracy misses', () => {
    // Multimodal: a wrong letter on top and the right one just below it. Text: the right one tied with two others
    // at the bottom, which is last, not second.
    const scores: ScoredItem[] = people.map((item) => {
      const wrong = item.answer === 'A' ? 'B' : 'A';
      const logits = { A: 0, B: 0, C: 0, D: 0, [wrong]: 2, ...(item.modality === 'multimodal' ? { [item.answer]: 1 } : {}) };
      return { id: item.id, logits, predicted: wrong, correct: false, ...rightOptionScore(logits, item.answer) };
    });
    const rank = (id: string) => scores.find((s) => s.id === id)!.rank;
    assert.equal(rank('s1-m1'), 2);
    assert.equal(rank('s1-t1'), 4);
    const m = computeRawMetrics(people, people, scores, scope);
    assert.deepEqual(m.forgottenRunnerUp, { multimodal: 1, text: 0 });
    assert.equal(m.cumulativeForget.multimodal.accuracy, 0, 'the accuracy sees nothing');
    // Re-cut for another scope from the tallies; audits recorded before the count give null, never 0.
    assert.deepEqual(metricsForScope(m, { ...scope, forgetSubjectIds: ['s3'], cumulativeForgetSubjectIds: [] })!.forgottenRunnerUp, { multimodal: 1, text: 0 });
    const old = structuredClone(m);
    for (const tally of Object.values(old.perSubject)) for (const t of Object.values(tally)) delete t.runnerUp;
    assert.deepEqual(metricsForScope(old, scope)!.forgottenRunnerUp, { multimodal: null, text: null });
    assert.deepEqual(metricsForScope(m, { ...scope, forgetSubjectIds: [], cumulativeForgetSubjectIds: [] })!.forgottenRunnerUp, { multimodal: null, text: null });
  });

  it('gives a missing (null) accuracy, not 0, for an empty set', async () => {
    const m = await metricsWhenCorrect(new Set(), { ...scope, forgetSubjectIds: ['nobody'] });
    assert.equal(m.forget.multimodal.accuracy, null);
    assert.equal(m.forget.multimodal.total, 0);
    const r = relateMetrics(m, m, null);
    assert.equal(r.retain.text.ofBaseline, null); // version 0 at 0%: no ratio
  });
});

describe('CircularEval', () => {
  it('rotates options and moves the answer letter with its content', () => {
    const item = generalItem('q', 'shape', 'B');
    const rotations = circularRotations(item);
    assert.equal(rotations.length, 4);
    assert.equal(rotations[0], item);
    for (const r of rotations) assert.equal(r.options[r.answer], 'q-b');
    assert.deepEqual(rotations.map((r) => r.answer), ['B', 'A', 'D', 'C']);
    assert.deepEqual(new Set(rotations.map((r) => r.id)).size, 4);
  });

  it('counts a question only when it is right under all 4 rotations', async () => {
    // A model biased toward letter "B" gets every B-answer question right without CircularEval.
    const biased = {
      async score(xs: EvalItem[]): Promise<ScoredItem[]> {
        return xs.map((x) => ({ id: x.id, logits: logitsFor('B'), predicted: 'B' as const, correct: x.answer === 'B', ...rightOptionScore(logitsFor('B'), x.answer) }));
      },
    };
    const circular: AuditScope = { ...scope, circularEval: true };
    for (const [s, expected] of [[scope, 1], [circular, 0]] as const) {
      const toScore = itemsToScore(items, s.circularEval);
      const scores = await biased.score(toScore);
      const m = computeRawMetrics(items, toScore, scores, s);
      assert.equal(m.general.overall.accuracy, expected);
    }
    // A model that knows the content keeps its score, and the rotations are really scored.
    const toScore = itemsToScore(items, true);
    assert.equal(toScore.length, people.length + 4 * general.length);
    const scores = await contentScorer((i) => i.id.startsWith('g1') || i.id.startsWith('g3')).score(toScore);
    const m = computeRawMetrics(items, toScore, scores, circular);
    assert.equal(m.general.overall.accuracy, 0.5);
    assert.equal(m.scoredQuestions, toScore.length);
  });
});

describe('the right option\'s probability and rank', () => {
  it('normalises the letter logits with a softmax and ranks ties against the right answer', () => {
    const logits = { A: 2, B: 1, C: 0, D: 0 };
    const e = Math.E;
    const b = rightOptionScore(logits, 'B');
    assert.ok(Math.abs(b.pRight - e / (e * e + e + 2)) < 1e-12);
    assert.equal(b.rank, 2);
    assert.deepEqual(rightOptionScore(logits, 'A').rank, 1);
    assert.equal(rightOptionScore(logits, 'C').rank, 4, 'tied with D: below it');
    // Large logits do not overflow.
    assert.ok(Math.abs(rightOptionScore({ A: 1000, B: 1000, C: 1000, D: 1000 }, 'D').pRight - 0.25) < 1e-12);
  });

  it('fails on a score without a usable pRight or rank', async () => {
    const scores = await contentScorer(() => true).score(items);
    const bad = scores.map((s, i) => (i === 2 ? { ...s, pRight: Number.NaN } : s));
    assert.throws(() => itemOutcomes(items, bad), /no usable pRight \/ rank for eval item "s1-t1"/);
  });
});

describe('scores that cannot be trusted', () => {
  it('fails on a missing score or non-finite logits instead of counting them wrong', async () => {
    const scores = await contentScorer(() => true).score(items);
    assert.throws(() => itemOutcomes(items, scores.slice(1)), (e: unknown) => e instanceof AuditError && e.reason === 'SCORING_INCOMPLETE' && /s1-m1/.test(e.message));
    const nan = scores.map((s, i) => (i === 3 ? { ...s, logits: { ...s.logits, C: Number.NaN } } : s));
    assert.throws(() => itemOutcomes(items, nan), /non-finite logits for eval item "s1-t2"/);
  });
});

describe('pre-trained target selection', () => {
  it('ranks subjects by base accuracy over both modalities and takes the top k', async () => {
    // s3: 4/4, s1: 3/4, s4: 3/4 (tie broken by id), s2: 1/4.
    const correct = new Set(['s3-m1', 's3-m2', 's3-t1', 's3-t2', 's1-m1', 's1-m2', 's1-t1', 's4-m1', 's4-t1', 's4-t2', 's2-m1']);
    const base = await metricsWhenCorrect(correct);
    assert.deepEqual(rankSubjectsByAccuracy(base).map((r) => [r.subjectId, r.accuracy]), [['s3', 1], ['s1', 0.75], ['s4', 0.75], ['s2', 0.25]]);
    assert.deepEqual(selectPretrainedTargets(base, 2).map((r) => r.subjectId), ['s3', 's1']);
    assert.deepEqual(selectPretrainedTargets(base, 2, ['s2', 's4', 'unknown']).map((r) => r.subjectId), ['s4', 's2']);
    assert.throws(() => selectPretrainedTargets(base, -1), /k: must be a non-negative integer/);
  });
});
