// Who a re-forget pass trains on, and where everyone else is held meanwhile (the lineage workflow's planReforget, and PulseHarness --reforget).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditMetrics } from '../../src/audits/domain/metrics';
import { forgottenAboveGoal, goalPassImproves, holdsOf, passWorsensGoal, peopleAbove } from '../../src/orchestration/reforget';

const adapter = (name: string) => ({ path: `/adapters/${name}.safetensors`, sha256: name.repeat(8) });

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

  it('counts the people an audit has forgotten, this request\'s and earlier ones, above the per-person goal', () => {
    const tally = (mm: number, text: number) => ({ multimodal: { correct: mm, total: 5 }, text: { correct: text, total: 5 } });
    const metrics = (perSubject: Record<string, unknown>) => ({ scope: { forgetSubjectIds: ['p1', 'p2'], cumulativeForgetSubjectIds: ['p0', 'p1'] }, perSubject }) as unknown as AuditMetrics;
    assert.equal(forgottenAboveGoal(metrics({ p0: tally(3, 0), p1: tally(2, 2), p2: tally(0, 4), r1: tally(5, 5) })), 2, 'p0 (earlier) and p2 (this request); 2 of 5 and a retained person are not');
    assert.equal(forgottenAboveGoal(metrics({ p0: tally(0, 0), p2: tally(1, 1) })), 0, 'a forgotten person without numbers (inline profile) is not above');
    assert.equal(forgottenAboveGoal(null), null);
    const [one, two] = [metrics({ p0: tally(3, 0) }), metrics({ p0: tally(3, 0), p2: tally(0, 4) })];
    assert.deepEqual(passWorsensGoal(one, two), { before: 1, after: 2 });
    assert.equal(passWorsensGoal(two, one), null, 'fewer above is no worse');
    assert.equal(passWorsensGoal(one, one), null, 'as many above is no worse');
    assert.equal(passWorsensGoal(null, two), null, 'an audit without numbers decides nothing');
    assert.equal(goalPassImproves(two, one), true, 'a goal pass is kept when it leaves fewer above');
    assert.equal(goalPassImproves(one, one), false, 'as many above is not enough for a goal pass');
    assert.equal(goalPassImproves(one, two), false);
    assert.equal(goalPassImproves(two, null), false, 'nor is an audit without numbers');
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
