// The lineage workflow's memory of requests stays bounded however many pass through it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FINISHED_REQUESTS_REMEMBERED, forgetOldFinished, initialLineageState } from '../../workflows/lineage.workflow';

describe('known requests', () => {
  it('keeps queued and active requests and only the most recent finished ones', () => {
    const state = initialLineageState('main');
    const finished = Array.from({ length: FINISHED_REQUESTS_REMEMBERED + 250 }, (_, i) => `done-${i}`);
    state.known = ['queued-old', ...finished, 'active-1', 'queued-new'];
    state.queue = [{ requestId: 'queued-old', queuedAt: 1 }, { requestId: 'queued-new', queuedAt: 2 }];
    state.active = { requestIds: ['active-1'], phase: 'UNLEARNING', attempt: 1, reforgetPass: 0, candidateVersion: null };
    forgetOldFinished(state);
    assert.equal(state.known.length, FINISHED_REQUESTS_REMEMBERED + 3);
    assert.deepEqual(state.known.slice(0, 2), ['queued-old', 'done-250'], 'the oldest finished go first; a queued one stays however old');
    assert.deepEqual(state.known.slice(-3), [`done-${finished.length - 1}`, 'active-1', 'queued-new']);
  });

  it('changes nothing within the bound', () => {
    const state = initialLineageState('main');
    state.known = ['a', 'b', 'c'];
    forgetOldFinished(state);
    assert.deepEqual(state.known, ['a', 'b', 'c']);
  });
});
