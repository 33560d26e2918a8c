// Re-forget and goal passes (src/orchestration/domain/passes.ts): whom a pass trains on, where everyone else is
// held, and which pass is kept. The lineage workflow and PulseHarness --reforget both run runPasses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditMetrics } from '../../src/audits/domain/metrics';
import { DEFAULT_GATE_POLICY } from '../../src/audits/domain/gate-policy';
import {
  forgottenAbove, holdsOf, judgeGoalPass, judgeReforgetPass, passTraining, peopleAbove, runPasses, type PassCandidate, type PassKind,
} from '../../src/orchestration/domain/passes';

const adapter = (name: string) => ({ path: `/adapters/${name}.safetensors`, sha256: name.repeat(8) });
const goal = DEFAULT_GATE_POLICY.goal;
const tally = (mm: number, text: number) => ({ multimodal: { correct: mm, total: 5 }, text: { correct: text, total: 5 } });
const metrics = (perSubject: Record<string, unknown>) => ({ scope: { forgetSubjectIds: ['p1', 'p2'], cumulativeForgetSubjectIds: ['p0', 'p1'] }, perSubject }) as unknown as AuditMetrics;
const candidate = (perSubject: Record<string, unknown> | null, passesGate = true): PassCandidate => ({ passesGate, metrics: perSubject && metrics(perSubject) });

describe('re-forgetting', () => {
  it('picks the forgotten people above 0.40 in either modality; 0.40 itself and missing numbers are not above', () => {
    const people = {
      p3: { multimodal: 0.6, text: 0.2 },
      p1: { multimodal: 0.2, text: 0.6 },
      p2: { multimodal: 0.4, text: 0.4 },
      p4: { multimodal: null, text: 0 },
      p0: { multimodal: 0.8, text: 0.8 },
    };
    assert.deepEqual(peopleAbove(people, 0.4), ['p0', 'p1', 'p3']);
    assert.deepEqual(peopleAbove({ p5: { multimodal: 0.4000000000000001, text: 0 } }, 0.4), [], '0.40 up to rounding is not above');
    assert.deepEqual(peopleAbove(people, 0.6), ['p0']);
  });

  it('counts the people an audit has forgotten, this request\'s and earlier ones, above the goal line', () => {
    assert.equal(forgottenAbove(metrics({ p0: tally(3, 0), p1: tally(2, 2), p2: tally(0, 4), r1: tally(5, 5) }), 0.4), 2, 'p0 (earlier) and p2 (this request); 2 of 5 and a retained person are not');
    assert.equal(forgottenAbove(metrics({ p0: tally(3, 0), p2: tally(0, 4) }), 0.6), 1, 'the line is the policy\'s');
    assert.equal(forgottenAbove(metrics({ p0: tally(0, 0), p2: tally(1, 1) }), 0.4), 0, 'a forgotten person without numbers (inline profile) is not above');
    assert.equal(forgottenAbove(null, 0.4), null);
  });

  it('keeps a re-forget pass unless a passing candidate would be traded for a failing or a worse one', () => {
    const [one, two] = [candidate({ p0: tally(3, 0) }), candidate({ p0: tally(3, 0), p2: tally(0, 4) })];
    assert.deepEqual(judgeReforgetPass(one, two, goal), { keep: false, because: 'MORE_ABOVE_GOAL', before: 1, after: 2 });
    assert.deepEqual(judgeReforgetPass(two, one, goal), { keep: true }, 'fewer above is no worse');
    assert.deepEqual(judgeReforgetPass(one, one, goal), { keep: true }, 'as many above is no worse');
    assert.deepEqual(judgeReforgetPass(one, candidate({ p0: tally(0, 0) }, false), goal), { keep: false, because: 'FAILS_GATE' });
    assert.deepEqual(judgeReforgetPass(candidate({ p0: tally(0, 0) }, false), two, goal), { keep: true }, 'a failing candidate is always continued');
    assert.deepEqual(judgeReforgetPass(candidate(null), two, goal), { keep: true }, 'an audit without numbers decides nothing');
    assert.deepEqual(judgeReforgetPass(one, two, { ...goal, maxForgottenAccuracy: 0.8 }), { keep: true }, 'nobody above a higher line');
  });

  it('keeps a goal pass only when it passes the gate and leaves fewer above the goal', () => {
    const [one, two] = [candidate({ p0: tally(3, 0) }), candidate({ p0: tally(3, 0), p2: tally(0, 4) })];
    assert.deepEqual(judgeGoalPass(two, one, goal), { keep: true });
    assert.deepEqual(judgeGoalPass(one, one, goal), { keep: false, because: 'NOT_FEWER_ABOVE_GOAL', before: 1, after: 1 });
    assert.deepEqual(judgeGoalPass(two, candidate({ p0: tally(0, 0) }, false), goal), { keep: false, because: 'FAILS_GATE' });
    assert.deepEqual(judgeGoalPass(two, candidate(null), goal), { keep: false, because: 'NOT_FEWER_ABOVE_GOAL', before: 2, after: null });
  });

  it('trains a goal pass with the log-odds ascent and a seed of its own', () => {
    const hp = { learningRate: 0.001, epochs: 1 };
    assert.deepEqual(passTraining('reforget', 2, 7, hp), { seed: 7, hyperParameters: hp });
    assert.deepEqual(passTraining('goal', 2, 7, hp), { seed: 9, hyperParameters: { ...hp, ascentObjective: 'logOdds' } });
  });

  it('holds each person at the version that last trained on them, one entry per version, never whom it trains on', () => {
    const [round1, round2, pass] = [adapter('a'), adapter('b'), adapter('c')];
    const heldAt = new Map([['p1', round1], ['p2', round1], ['p3', round2], ['p4', round2]]);
    heldAt.set('p1', pass); // re-forgotten after round 2: it moves, its first-use order stays
    assert.deepEqual(holdsOf(heldAt, ['p4']), [
      { adapter: pass, datasetSubjectIds: ['p1'] },
      { adapter: round1, datasetSubjectIds: ['p2'] },
      { adapter: round2, datasetSubjectIds: ['p3'] },
    ]);
    assert.deepEqual(holdsOf(heldAt, ['p1', 'p2', 'p3', 'p4']), []);
  });
});

describe('runPasses', () => {
  type Named = PassCandidate & { name: string };
  /** Scripted passes: each train returns the next audit; records what the caller was asked to do. */
  function script(audits: Array<Record<string, unknown>>, picks = audits.length) {
    const log: string[] = [];
    let trained = 0;
    let planned = 0;
    const steps = {
      plan: async (kind: PassKind, pass: number) => (planned++ < picks ? `${kind}${pass}` : null),
      train: async (kind: PassKind, pass: number) => ({ name: `${kind}${pass}`, ...candidate(audits[trained++]) }),
      keep: async (_k: PassKind, _p: number, replaced: Named, passed: Named) => void log.push(`${passed.name} replaces ${replaced.name}`),
      drop: async (_k: PassKind, _p: number, kept: Named, passed: Named) => void log.push(`${passed.name} dropped, ${kept.name} kept`),
    };
    return { log, steps };
  }

  it('runs the re-forget passes, then goal passes while someone forgotten is above the goal; a dropped goal pass lets the next seed try', async () => {
    const { log, steps } = script([{ p0: tally(1, 0), p2: tally(3, 0) }, { p0: tally(3, 0), p2: tally(0, 0) }, { p0: tally(0, 0), p2: tally(1, 0) }]);
    const first = { name: 'first', ...candidate({ p0: tally(4, 0) }) };
    const kept = await runPasses<Named, string>(first, { reforgetPasses: 1, goal }, steps);
    assert.equal(kept.name, 'goal2');
    assert.deepEqual(log, ['reforget1 replaces first', 'goal1 dropped, reforget1 kept', 'goal2 replaces reforget1']);
  });

  it('ends the re-forget passes at the first dropped one, runs no goal pass without re-forget passes or with the policy\'s 0', async () => {
    const worse = script([{ p0: tally(3, 0), p2: tally(3, 0) }, { p0: tally(0, 0) }]);
    const first = { name: 'first', ...candidate({ p0: tally(4, 0) }) };
    const kept = await runPasses<Named, string>(first, { reforgetPasses: 3, goal: { ...goal, passes: 0 } }, worse.steps);
    assert.equal(kept.name, 'first');
    assert.deepEqual(worse.log, ['reforget1 dropped, first kept']);
    const none = script([{ p0: tally(0, 0) }]);
    assert.equal((await runPasses<Named, string>(first, { reforgetPasses: 0, goal }, none.steps)).name, 'first');
    assert.deepEqual(none.log, []);
  });
});
