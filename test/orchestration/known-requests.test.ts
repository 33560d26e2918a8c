// The lineage workflow's memory of requests stays bounded however many pass through it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cancelQueued, enqueueRequest, FINISHED_REQUESTS_REMEMBERED, forgetOldFinished, initialLineageState, takeNextBatch } from '../../workflows/lineage.workflow';

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

describe('a lineage through a million submissions and cancels (the workflow\'s own state functions)', () => {
  it('keeps its memory bounded, every fresh request accepted once and every retry a no-op', () => {
    const state = initialLineageState('busy');
    const TOTAL = 1_000_000;
    const BATCH = 100; // what the outbox sends in one enqueueMany
    // Queued, active and the finished ones remembered, plus the half again the trim waits for and
    // what finished since the last enqueue (the trim runs on enqueue).
    const bound = () => state.queue.length + (state.active?.requestIds.length ?? 0) + FINISHED_REQUESTS_REMEMBERED * 1.5 + BATCH;
    let accepted = 0;
    let canceled = 0;
    let completed = 0;
    let largestState = 0;
    for (let start = 0; start < TOTAL; start += BATCH) {
      const ids = Array.from({ length: BATCH }, (_, i) => `r${start + i}`);
      for (const id of ids) if (enqueueRequest(state, id, start).accepted) accepted += 1;
      // The outbox lost the answer and sends the batch again: nothing changes.
      const again = enqueueRequest(state, ids[7], start);
      assert.equal(again.accepted, false);
      // Requesters withdraw every other request while it waits.
      for (let i = 0; i < BATCH; i += 2) if (cancelQueued(state, ids[i])) canceled += 1;
      // A step finishes and the next begins: a batching window takes what was queued together.
      if (state.active) completed += state.active.requestIds.length;
      const batch = takeNextBatch(state, 1);
      state.active = batch.length ? { requestIds: batch, phase: 'UNLEARNING', attempt: 1, reforgetPass: 0, candidateVersion: null } : null;
      assert.ok(state.known.length <= bound(), `after ${start + BATCH}: ${state.known.length} known, bound ${bound()}`);
      if (start % 50_000 === 0) largestState = Math.max(largestState, JSON.stringify(state).length);
    }
    assert.equal(accepted, TOTAL);
    assert.equal(canceled, TOTAL / 2);
    assert.equal(completed + (state.active?.requestIds.length ?? 0) + state.queue.length, TOTAL / 2);
    // What it remembers beyond its queue stays within the bound however many passed.
    assert.ok(state.known.length - state.queue.length <= FINISHED_REQUESTS_REMEMBERED * 1.5 + BATCH);
    // The most recent finished requests are still known: a late retry of one is a no-op.
    assert.equal(enqueueRequest(state, `r${TOTAL - 2}`, TOTAL).accepted, false, 'canceled recently: still known');
    assert.equal(cancelQueued(state, 'r1'), false, 'long finished: nothing to cancel');
    assert.ok(largestState < 2_000_000, `state ${largestState} bytes`);
  });
});
