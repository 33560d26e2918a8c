import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { finetunedSplit, planRounds, pretrainedCounts, pretrainedSplit, seededShuffle, splitIntoParts, stepBudget } from '../../pulse/splits';

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(3, '0')}`);

describe('PULSE splits', () => {
  it('finetuned: a seeded half forgotten, the other half retained, disjoint and complete', () => {
    const people = ids('p', 150);
    const s = finetunedSplit(people, 0);
    assert.equal(s.forget.length, 75);
    assert.equal(s.retain.length, 75);
    assert.deepEqual([...s.forget, ...s.retain].sort(), people);
    assert.deepEqual(finetunedSplit([...people].reverse(), 0), s, 'input order must not matter');
    assert.notDeepEqual(finetunedSplit(people, 1).forget, s.forget, 'another seed, another half');
    assert.equal(finetunedSplit(ids('p', 7), 3).forget.length, 3);
  });

  it('finetuned: --max-people caps both sets', () => {
    const s = finetunedSplit(ids('p', 150), 0, 4);
    assert.equal(s.forget.length, 4);
    assert.equal(s.retain.length, 4);
    assert.equal(new Set([...s.forget, ...s.retain]).size, 8);
  });

  it('pretrained: keeps PULSE proportions (45 of 153, 20 of 45 forgotten)', () => {
    assert.deepEqual(pretrainedCounts(153), { selected: 45, forgotten: 20 });
    assert.deepEqual(pretrainedCounts(45), { selected: 13, forgotten: 6 });
    assert.deepEqual(pretrainedCounts(2), { selected: 2, forgotten: 1 });
    assert.throws(() => pretrainedCounts(1), /at least 2 celebrities/);
  });

  it('pretrained: only the best-known subjects are selected, then split', () => {
    const ranked = ids('c', 45); // best known first
    const s = pretrainedSplit(ranked, 0);
    assert.equal(s.forget.length, 6);
    assert.equal(s.retain.length, 7);
    const top = new Set(ranked.slice(0, 13));
    for (const id of [...s.forget, ...s.retain]) assert.ok(top.has(id), `${id} is not among the 13 best known`);
    assert.equal(new Set([...s.forget, ...s.retain]).size, 13);
  });

  it('sustainability: the forget set in equal parts, in order, remainder first', () => {
    const parts = splitIntoParts(ids('p', 75), 5);
    assert.deepEqual(parts.map((p) => p.length), [15, 15, 15, 15, 15]);
    assert.deepEqual(parts.flat(), ids('p', 75));
    assert.deepEqual(splitIntoParts(ids('p', 7), 3).map((p) => p.length), [3, 2, 2]);
    assert.throws(() => splitIntoParts(ids('p', 3), 5), /need at least 5 people/);
  });

  it('sequential rounds train on their request and continue the previous adapter', () => {
    const plans = planRounds([['a'], ['b'], ['c']], 'sequential');
    assert.deepEqual(plans.map((p) => p.trainOn), [['a'], ['b'], ['c']]);
    assert.deepEqual(plans.map((p) => p.continuesPrevious), [false, true, true]);
    assert.deepEqual(plans.map((p) => p.cumulative), [['a'], ['a', 'b'], ['a', 'b', 'c']]);
    assert.deepEqual(plans.map((p) => p.excludeFromRetain), [[], ['a'], ['a', 'b']]);
  });

  it('cumulative rounds train a fresh adapter on the union so far', () => {
    const plans = planRounds([['a', 'b'], ['c'], ['d']], 'cumulative');
    assert.deepEqual(plans.map((p) => p.trainOn), [['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd']]);
    assert.deepEqual(plans.map((p) => p.continuesPrevious), [false, false, false]);
    assert.deepEqual(plans.map((p) => p.requested), [['a', 'b'], ['c'], ['d']]);
  });

  it('step budget: the same steps per person for one batch, a sequential round and a cumulative round', () => {
    assert.equal(stepBudget(40, 15, 15), 40, 'one request');
    assert.equal(stepBudget(40, 75, 15), 200, 'five requests in one operation: as many steps as five sequential rounds');
    assert.equal(stepBudget(40, 45, 15), 120, 'cumulative round 3');
    assert.equal(stepBudget(40, 16, 15), 80, 'a started request counts whole');
    assert.equal(stepBudget(40, 6, 15), 40, 'fewer people than a request: never below one request');
    assert.throws(() => stepBudget(40, 6, 0), /peoplePerRequest/);
  });

  it('the shuffle is a deterministic permutation', () => {
    const x = ids('p', 20);
    assert.deepEqual(seededShuffle(x, 5), seededShuffle(x, 5));
    assert.deepEqual([...seededShuffle(x, 5)].sort(), x);
  });
});
