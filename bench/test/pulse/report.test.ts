import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForgettingLine, ModalityAccuracy, RunResult } from '../../pulse/harness';
import { evaluateFindings } from '../../pulse/findings';
import { aboveGoalAtMean, aggregate, checkGoal, guessingAbove, jsonLine, SettingReport } from '../../pulse/report';

const M = (multimodal: number, text: number): ModalityAccuracy => ({ multimodal, text });

function run(over: Partial<RunResult> & { rounds: RunResult['rounds'] }): RunResult {
  return {
    model: '/models/tiny', setting: 'sustainability', method: 'ga', strategy: 'sequential', targets: 'llm', seed: 0, hyperParameters: { learningRate: 0.001 },
    split: { forget: ['p1', 'p2'], retain: ['p3'] },
    questionsPerPerson: 5,
    baseline: { forget: M(0.8, 0.8), retain: M(0.8, 0.8), general: 0.6 },
    wallSeconds: 10,
    ...over,
  };
}

function round(i: number, forgottenSubjects: Record<string, ModalityAccuracy>, retain: ModalityAccuracy, general: number) {
  return { round: i, forget: M(0.2, 0.2), cumulativeForget: M(0.2, 0.3), retain, general, forgottenSubjects, trainedOnPeople: 1, steps: 2, unlearnSeconds: 1, auditSeconds: 1 };
}

describe('benchmark report', () => {
  it('the goal counts every forgotten person, not the average', () => {
    const ok = run({ rounds: [round(1, { p1: M(0.2, 0.4), p2: M(0, 0.2) }, M(0.7, 0.7), 0.55)] });
    assert.equal(checkGoal(ok).met, true);
    const onePersonLeaks = run({ rounds: [round(1, { p1: M(0.2, 0.6), p2: M(0, 0) }, M(0.7, 0.7), 0.55)] });
    const c = checkGoal(onePersonLeaks);
    assert.equal(c.met, false);
    assert.deepEqual(c.worstForgotten, M(0.2, 0.6));
    assert.match(c.failures.join(';'), /0\.60 text accuracy/);
  });

  it('reads the goal per request too: each request\'s people together', () => {
    const rounds = [
      round(1, { p1: M(0.6, 0.2), p2: M(0, 0.2) }, M(0.7, 0.7), 0.55),
      round(2, { p1: M(0.6, 0.2), p2: M(0, 0.2), p3: M(0.2, 0.4) }, M(0.7, 0.7), 0.55),
    ];
    const c = checkGoal(run({ rounds }));
    assert.equal(c.met, false, 'p1 is above 0.40 on its own');
    assert.equal(c.metPerRequest, true, 'request 1 (p1, p2) is at 0.30 together');
    assert.deepEqual(c.worstRequest, M(0.3, 0.4));
    assert.deepEqual(c.peopleAbove, { multimodal: 1, text: 0, of: 3 });
    const leaks = checkGoal(run({ rounds: [rounds[0], round(2, { p1: M(0.6, 0.6), p2: M(0.4, 0.2), p3: M(0, 0) }, M(0.7, 0.7), 0.55)] }));
    assert.equal(leaks.metPerRequest, false);
    assert.match(leaks.failures.join(';'), /request's people together still at 0\.50 multimodal/);
  });

  it('a request exactly at 0.40 meets the goal although its mean is 0.4000000000000001 in floating point', () => {
    const people = { p1: M(0.2, 0.2), p2: M(0.6, 0.2), p3: M(0.4, 0.2) };
    const c = checkGoal(run({ split: { forget: ['p1', 'p2', 'p3'], retain: ['p4'] }, rounds: [round(1, people, M(0.7, 0.7), 0.55)] }));
    assert.equal(c.worstRequest.multimodal! > 0.4, true, 'the float noise this test is about');
    assert.equal(c.metPerRequest, true);
    assert.deepEqual(c.failures.filter((f) => /request's people/.test(f)), []);
  });

  it('with several seeds, the goal reported is that of the first seed that misses it', () => {
    const meets = run({ seed: 0, rounds: [round(1, { p1: M(0.2, 0.4), p2: M(0, 0.2) }, M(0.7, 0.7), 0.55)] });
    const misses = run({ seed: 1, rounds: [round(1, { p1: M(0.8, 0.6), p2: M(0.4, 0.6) }, M(0.7, 0.7), 0.55)] });
    const r = aggregate([meets, misses]);
    assert.equal(r.goal!.seed, 1);
    assert.equal(r.goal!.metPerRequest, false);
    assert.equal(aggregate([meets, meets]).goal!.met, true);
  });

  it('a guessing model puts about 10% of people above 0.40 with 5 questions each', () => {
    // P(3, 4 or 5 of 5 right at 1/4): 10*(1/4)^3*(3/4)^2 + 5*(1/4)^4*(3/4) + (1/4)^5
    assert.ok(Math.abs(guessingAbove(5) - (90 + 15 + 1) / 1024) < 1e-12);
    assert.ok(guessingAbove(50) < 0.01, 'more questions, less luck');
  });

  it('counts the people above 0.40 against what the forgotten people\'s mean rate would put there', () => {
    const T = (mm: number, text: number) => ({ multimodal: { correct: mm, total: 5 }, text: { correct: text, total: 5 } });
    // 1 of 5 right everywhere: nobody above, and a rate of 0.2 per question would put 1 - (1 - q)^2 of them above.
    const even = aboveGoalAtMean(Array.from({ length: 10 }, () => T(1, 1)));
    const q = guessingAbove(5, 0.2);
    assert.equal(even.seen, 0);
    assert.ok(Math.abs(even.atMean - 10 * (1 - (1 - q) ** 2)) < 1e-12);
    // The same mean, but one person known in both modalities and the rest at 0.11: seen exceeds the spread.
    const known = aboveGoalAtMean([T(5, 5), ...Array.from({ length: 9 }, (_, i) => T(i % 2 ? 0 : 1, i % 2 ? 1 : 0))]);
    assert.equal(known.seen, 1);
    assert.equal(known.of, 10);
    assert.ok(known.atMean < 1, `at a mean of 0.14 fewer than one person of 10 is expected above 0.40, got ${known.atMean}`);
    // A person above in text only counts once.
    assert.equal(aboveGoalAtMean([T(0, 3), T(3, 3)]).seen, 2);
  });

  it('the goal needs retain >= 80% and general >= 90% of version 0', () => {
    const c = checkGoal(run({ rounds: [round(1, { p1: M(0, 0) }, M(0.6, 0.7), 0.5)] }));
    assert.equal(c.met, false);
    assert.deepEqual(c.failures, ['retain multimodal at 75% of baseline (< 80%)', 'general at 83% of baseline (< 90%)']);
  });

  it('aggregates seeds into means with their spread', () => {
    const a = run({ seed: 0, rounds: [round(1, {}, M(0.6, 0.8), 0.5)] });
    const b = run({ seed: 1, rounds: [round(1, {}, M(0.8, 0.8), 0.7)] });
    const r = aggregate([a, b]);
    assert.equal(r.seeds, 2);
    assert.ok(Math.abs(r.rounds[0].retain.multimodal! - 0.7) < 1e-12);
    assert.ok(Math.abs(r.spread!.rounds[0].retain.multimodal! - 0.1) < 1e-12);
    assert.equal(r.spread!.rounds[0].retain.text, 0);
    assert.equal(r.wallSeconds, 20);
  });

  it('--json prints the report shape for one report', () => {
    const line = jsonLine([aggregate([run({ rounds: [round(1, { p1: M(0, 0) }, M(0.7, 0.7), 0.55)] })])]);
    const o = JSON.parse(line);
    assert.deepEqual(Object.keys(o).slice(0, 6), ['setting', 'method', 'strategy', 'targets', 'baseline', 'rounds']);
    assert.deepEqual(Object.keys(o.baseline), ['forget', 'retain', 'general']);
    assert.deepEqual(Object.keys(o.rounds[0]), ['round', 'forget', 'cumulativeForget', 'retain', 'general']);
    assert.deepEqual(Object.keys(o.rounds[0].forget), ['multimodal', 'text']);
  });

  it('--json carries the forgetting evidence per round and of version 0 for one seed, not averaged over seeds', () => {
    const line: ForgettingLine = { n: 50, referenceN: 250, forgetQuality: 0.3, ksStatistic: 0.14, miaAuc: 0.52, miaAucInterval: [0.43, 0.61], rankShares: [0.3, 0.3, 0.2, 0.2], belowChance: 0.6, passes: { FORGET_QUALITY: true } };
    const evidence = { multimodal: line, text: { ...line, forgetQuality: 0.01 } };
    const one = run({ baselineForgetting: evidence, rounds: [{ ...round(1, {}, M(0.7, 0.7), 0.55), forgetting: evidence }] });
    const o = JSON.parse(jsonLine([aggregate([one])]));
    assert.deepEqual(o.rounds[0].forgetting, evidence);
    assert.deepEqual(o.baselineForgetting, evidence);
    assert.equal(o.wallSeconds, 10);
    const two = aggregate([one, { ...one, seed: 1 }]);
    assert.equal(two.rounds[0].forgetting, undefined);
    assert.equal(two.baselineForgetting, undefined);
  });
});

function report(setting: SettingReport['setting'], method: SettingReport['method'], after: { forget: ModalityAccuracy; general: number }, extra: Partial<SettingReport> = {}): SettingReport {
  return {
    model: '/models/tiny', setting, method, strategy: setting === 'sustainability' ? 'sequential' : null, targets: 'llm',
    baseline: { forget: M(0.8, 0.8), retain: M(0.8, 0.8), general: 0.8 },
    rounds: [{ round: 1, forget: after.forget, cumulativeForget: after.forget, retain: M(0.7, 0.7), general: after.general }],
    wallSeconds: 1, hyperParameters: {}, people: { forget: 2, retain: 2 },
    ...extra,
  };
}

describe('paper findings', () => {
  it('decides each finding from the numbers', () => {
    const reports = [
      report('finetuned', 'ga', { forget: M(0.1, 0.3), general: 0.72 }),
      report('pretrained', 'ga', { forget: M(0.4, 0.6), general: 0.2 }),
      report('sustainability', 'ga', { forget: M(0.2, 0.4), general: 0.3 }),
      report('finetuned', 'ga', { forget: M(0.1, 0.3), general: 0.4 }, { targets: 'projector+llm' }),
    ];
    const f = evaluateFindings(reports);
    assert.deepEqual(f.map((x) => x.verdict), ['holds', 'holds', 'holds', 'holds']);
    assert.match(f[0].evidence[0], /forgotten 75% fine-tuned vs 38% pre-trained; general kept 90% vs 25%/);
  });

  it('says "does not hold" when the numbers disagree with the paper', () => {
    const f = evaluateFindings([
      report('finetuned', 'npo', { forget: M(0.6, 0.1), general: 0.8 }),
      report('pretrained', 'npo', { forget: M(0.1, 0.1), general: 0.8 }),
    ]);
    assert.equal(f[0].verdict, 'does not hold');
    assert.equal(f[2].verdict, 'does not hold'); // text forgotten more than multimodal in both
  });

  it('is "not measurable" when version 0 does not know the people to forget', () => {
    const chance = { baseline: { forget: M(0.25, 0.3), retain: M(0.25, 0.25), general: 0.25 } };
    const f = evaluateFindings([
      report('finetuned', 'ga', { forget: M(0.2, 0.2), general: 0.25 }, chance),
      report('pretrained', 'ga', { forget: M(0.2, 0.2), general: 0.25 }, chance),
    ]);
    assert.equal(f[0].verdict, 'not measurable');
    assert.match(f[0].evidence[0], /nothing to forget/);
  });
});
