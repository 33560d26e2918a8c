// The lineage workflow on the real Temporal dev server, with replaced activities (the control
// plane, the GPU worker and the audit are scripted in memory; see scripted-activities.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { lineageWorkflowId } from '../../workflows/messages';
import { OrchestrationError } from '../../src/orchestration/domain/orchestration-error';
import type { AuditMetrics } from '../../src/audits/domain/metrics';
import type { UnlearnInput } from '../../src/common/gpu-contracts';
import { TemporalRequestQueue } from '../../src/orchestration/temporal-request-queue';
import { eventually, recordHistories, startHarness, type Harness } from './harness';

/** A passing audit with s1 (this request) and s2 (an earlier one) forgotten: a tally per person of [multimodal, text] right out of 5. */
function audited(tallies: Record<string, [number, number]>) {
  return {
    decision: 'PASS' as const, reasons: [],
    metrics: {
      scope: { forgetSubjectIds: ['s1'], cumulativeForgetSubjectIds: ['s2'] },
      perSubject: Object.fromEntries(Object.entries(tallies).map(([id, [mm, text]]) => [id, { multimodal: { correct: mm, total: 5 }, text: { correct: text, total: 5 } }])),
    } as unknown as AuditMetrics,
  };
}

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  // The burst's history (hundreds of updates) adds nothing the others do not cover.
  const recorded = [...(h?.plane.lineages.keys() ?? [])].filter((lineage) => lineage !== 'burst');
  if (h) await recordHistories(h, recorded.map((lineage) => ({ name: lineage, workflowId: lineageWorkflowId(lineage) })));
  await h?.stop();
});

function requests(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-r${i + 1}`);
}

async function submit(lineage: string, ids: string[]): Promise<void> {
  for (const id of ids) {
    h.plane.addRequest(lineage, id);
    await h.queue.enqueue(lineage, id);
  }
}

function assertStatus(id: string, status: string): void {
  assert.equal(h.plane.status(id), status, `request ${id}: ${JSON.stringify(h.plane.requests.get(id))}`);
}

describe('lineage workflow', () => {
  it('carries requests in FIFO order, each on top of the previous champion (sequential)', async () => {
    h.plane.addLineage('fifo');
    const release = h.plane.holdUnlearn('fifo');
    const ids = requests('fifo', 3);
    await submit('fifo', ids);
    const state = await h.queue.state('fifo');
    // The first is running (held in unlearn), the other two wait in order.
    assert.deepEqual(state.queue.map((q) => q.requestId), ids.slice(1));
    assert.deepEqual(state.active?.requestIds, ids.slice(0, 1));
    release();
    await eventually(() => ids.forEach((id) => assertStatus(id, 'COMPLETED')));
    assert.deepEqual(h.plane.callsOf('beginRequest', 'fifo').map((c) => (c.input as { requestIds: string[] }).requestIds), ids.map((id) => [id]));
    const versions = h.plane.lineages.get('fifo')!.versions;
    assert.deepEqual(versions.map((v) => [v.number, v.parent, v.status]), [
      [0, null, 'SUPERSEDED'], [1, 0, 'SUPERSEDED'], [2, 1, 'SUPERSEDED'], [3, 2, 'PROMOTED'],
    ]);
    assert.deepEqual(ids.map((id) => h.plane.requests.get(id)!.modelVersion), [1, 2, 3]);
    // export_onnx ran once for the (base, LoRA config) pair, every forget-set file was discarded.
    assert.equal(h.plane.calls.filter((c) => c.name === 'export_onnx').length, 1);
    await eventually(() => assert.equal(h.plane.discardedFiles.filter((f) => f.includes('/fifo/')).length, 3));
  });

  it('queues a request once however often it is enqueued', async () => {
    h.plane.addLineage('dedupe');
    const release = h.plane.holdUnlearn('dedupe');
    h.plane.addRequest('dedupe', 'dedupe-a');
    h.plane.addRequest('dedupe', 'dedupe-b');
    await Promise.all([h.queue.enqueue('dedupe', 'dedupe-a'), h.queue.enqueue('dedupe', 'dedupe-a'), h.queue.enqueue('dedupe', 'dedupe-b')]);
    await h.queue.enqueue('dedupe', 'dedupe-b');
    await h.queue.enqueue('dedupe', 'dedupe-a');
    const state = await h.queue.state('dedupe');
    assert.deepEqual([...state.known].sort(), ['dedupe-a', 'dedupe-b']);
    release();
    await eventually(() => ['dedupe-a', 'dedupe-b'].forEach((id) => assertStatus(id, 'COMPLETED')));
    // Enqueued again after completion: still nothing new.
    await h.queue.enqueue('dedupe', 'dedupe-a');
    assert.equal(h.plane.callsOf('unlearn', 'dedupe').length, 2);
    assert.equal(h.plane.lineages.get('dedupe')!.versions.length, 3);
  });

  it('queues a concurrent burst with duplicates from two API processes exactly once each', async () => {
    h.plane.addLineage('burst');
    const release = h.plane.holdUnlearn('burst');
    // Two queues = two API processes: together they exceed the server's cap on updates in flight
    // per workflow, so the saturation retry is exercised, not only the per-process limiter.
    const other = new TemporalRequestQueue(h.temporal.client);
    const distinct = Array.from({ length: 60 }, (_, i) => `burst-${i}`);
    distinct.forEach((id) => h.plane.addRequest('burst', id));
    const submissions = [...distinct, ...distinct, ...distinct.slice(0, 30)];
    const started = Date.now();
    await Promise.all(submissions.map((id, i) => (i % 2 ? other : h.queue).enqueue('burst', id)));
    const state = await h.queue.state('burst');
    assert.equal(state.known.length, distinct.length);
    assert.deepEqual([...state.known].sort(), [...distinct].sort());
    // One step holds in unlearn; everything else waits, each request once.
    assert.equal(state.active?.requestIds.length, 1);
    assert.equal(new Set([...state.queue.map((q) => q.requestId), ...state.active!.requestIds]).size, distinct.length);
    assert.equal(state.queue.length, distinct.length - 1);
    assert.ok(Date.now() - started < 30_000, `burst took ${Date.now() - started} ms`);
    // Leave nothing running: withdraw the waiting ones, let the held one finish.
    for (const q of state.queue) assert.equal(await h.queue.cancel('burst', q.requestId), true);
    release();
    await eventually(() => assertStatus(state.active!.requestIds[0], 'COMPLETED'));
  });

  it('cancels a queued request, refuses once unlearning started, and rejects unknown ids', async () => {
    h.plane.addLineage('cancel');
    const release = h.plane.holdUnlearn('cancel');
    await submit('cancel', ['cancel-a', 'cancel-b', 'cancel-c']);
    await eventually(() => assert.equal(h.plane.callsOf('unlearn', 'cancel').length, 1));
    assert.equal(await h.queue.cancel('cancel', 'cancel-b'), true);
    assert.equal(await h.queue.cancel('cancel', 'cancel-a'), false);
    await assert.rejects(h.queue.cancel('cancel', 'never-queued'), (err: unknown) => {
      assert.ok(err instanceof OrchestrationError);
      assert.equal(err.code, 'NOT_FOUND');
      assert.equal(err.field, 'requestId');
      return true;
    });
    release();
    await eventually(() => ['cancel-a', 'cancel-c'].forEach((id) => assertStatus(id, 'COMPLETED')));
    const begun = h.plane.callsOf('beginRequest', 'cancel').flatMap((c) => (c.input as { requestIds: string[] }).requestIds);
    assert.deepEqual(begun, ['cancel-a', 'cancel-c']);
  });

  it('promotes a NEEDS_REVIEW candidate on APPROVE, with the reviewer as actor', async () => {
    h.plane.addLineage('approve', { decisions: [{ metrics: null, decision: 'REVIEW', reasons: ['retain text 84% of version 0 < 85%'] }] });
    await submit('approve', ['approve-a']);
    await eventually(() => assertStatus('approve-a', 'NEEDS_REVIEW'));
    assert.equal((await h.queue.state('approve')).active?.phase, 'NEEDS_REVIEW');
    await h.queue.review('approve', 'approve-a', 'APPROVE', 'retain loss acceptable for this subject', 'operator:alice');
    await eventually(() => assertStatus('approve-a', 'COMPLETED'));
    const promote = h.plane.callsOf('promoteCandidate', 'approve')[0].input as { actor: string; reason: string; version: number };
    assert.deepEqual([promote.actor, promote.reason, promote.version], ['operator:alice', 'retain loss acceptable for this subject', 1]);
    // A second review of a finished request is refused before it is recorded.
    await assert.rejects(h.queue.review('approve', 'approve-a', 'REJECT', 'late', 'operator:bob'), (err: unknown) => err instanceof OrchestrationError && err.code === 'CONFLICT');
  });

  it('rejects a NEEDS_REVIEW candidate on REJECT and goes on with the next request', async () => {
    h.plane.addLineage('reject', { decisions: [{ metrics: null, decision: 'REVIEW', reasons: ['general 88% < 90%'] }] });
    await submit('reject', ['reject-a', 'reject-b']);
    await eventually(() => assertStatus('reject-a', 'NEEDS_REVIEW'));
    await assert.rejects(h.queue.review('reject', 'reject-b', 'APPROVE', 'wrong one', 'operator:alice'), (err: unknown) => err instanceof OrchestrationError && err.code === 'CONFLICT');
    await assert.rejects(
      h.queue.review('reject', 'reject-a', 'MAYBE' as 'APPROVE', 'x', 'operator:alice'),
      (err: unknown) => err instanceof OrchestrationError && err.code === 'BAD_USER_INPUT' && err.field === 'decision',
    );
    await h.queue.review('reject', 'reject-a', 'REJECT', 'general knowledge loss too high', 'operator:alice');
    await eventually(() => assertStatus('reject-b', 'COMPLETED'));
    assertStatus('reject-a', 'REJECTED');
    const versions = h.plane.lineages.get('reject')!.versions;
    assert.deepEqual(versions.map((v) => [v.number, v.parent, v.status]), [[0, null, 'SUPERSEDED'], [1, 0, 'REJECTED'], [2, 0, 'PROMOTED']]);
  });

  it('rejects a NEEDS_REVIEW candidate when no review comes in time (fail closed)', async () => {
    h.plane.addLineage('timeout', { reviewTimeoutMs: 1000, decisions: [{ metrics: null, decision: 'REVIEW', reasons: ['borderline'] }] });
    await submit('timeout', ['timeout-a']);
    await eventually(() => assertStatus('timeout-a', 'REJECTED'));
    assert.match(h.plane.requests.get('timeout-a')!.reason ?? '', /no review within 1000 ms/);
    assert.equal(h.plane.lineages.get('timeout')!.champion, 0);
  });

  it('retries a FAIL with the escalated settings while attempts are left, and fails the request on the last one', async () => {
    const fail = {
      metrics: null, decision: 'FAIL' as const, reasons: ['forget multimodal 0.60 > 0.35'],
      escalation: { direction: 'STRENGTHEN_FORGETTING' as const, learningRateFactor: 2, epochsFactor: 2, suggestion: 'train harder' },
    };
    h.plane.addLineage('retry', { maxAttempts: 3, decisions: [fail, fail, fail, fail, fail] });
    await submit('retry', ['retry-a']);
    await eventually(() => assertStatus('retry-a', 'FAILED'));
    const rates = h.plane.callsOf('unlearn', 'retry').map((c) => (c.input as { hyperParameters: { learningRate: number; epochs: number } }).hyperParameters);
    assert.deepEqual(rates, [{ learningRate: 0.001, epochs: 1, batchSize: 2 }, { learningRate: 0.002, epochs: 2, batchSize: 2 }, { learningRate: 0.004, epochs: 4, batchSize: 2 }]);
    assert.match(h.plane.requests.get('retry-a')!.reason ?? '', /did not pass after 3 attempts/);
    assert.deepEqual(h.plane.lineages.get('retry')!.versions.map((v) => v.status), ['PROMOTED', 'REJECTED', 'REJECTED', 'REJECTED']);
  });

  it('follows the audit escalation suggestion and promotes the attempt that passes', async () => {
    h.plane.addLineage('escalate', {
      decisions: [{
        metrics: null, decision: 'FAIL', reasons: ['retain text 70% of version 0 < 85%'],
        escalation: { direction: 'PROTECT_UTILITY', method: 'npo', learningRateFactor: 0.5, epochsFactor: 1, suggestion: 'switch to npo at half the rate' },
      }],
    });
    await submit('escalate', ['escalate-a']);
    await eventually(() => assertStatus('escalate-a', 'COMPLETED'));
    const attempts = h.plane.callsOf('unlearn', 'escalate').map((c) => c.input as { method: string; hyperParameters: { learningRate: number; epochs: number } });
    assert.deepEqual(attempts.map((a) => [a.method, a.hyperParameters.learningRate, a.hyperParameters.epochs]), [['ga', 0.001, 1], ['npo', 0.0005, 1]]);
    assert.equal(h.plane.requests.get('escalate-a')!.modelVersion, 2);
  });

  it('re-forgets after the audit: each pass a version continuing the last one, audited, and only the last is gated', async () => {
    h.plane.addLineage('reforget', { reforgetPasses: 2, reforgetPicks: [['s1', 's2'], ['s2'], ['s9']] });
    await submit('reforget', ['reforget-a']);
    await eventually(() => assertStatus('reforget-a', 'COMPLETED'));
    const versions = h.plane.lineages.get('reforget')!.versions;
    assert.deepEqual(versions.map((v) => [v.number, v.parent, v.status, v.reforgottenSubjectIds]), [
      [0, null, 'SUPERSEDED', []], [1, 0, 'REJECTED', []], [2, 1, 'REJECTED', ['s1', 's2']], [3, 2, 'PROMOTED', ['s1', 's2']],
    ]);
    assert.equal(h.plane.requests.get('reforget-a')!.modelVersion, 3);
    // Two passes at most: the third pick is never asked for.
    assert.deepEqual(h.plane.callsOf('planReforget', 'reforget').map((c) => c.input), [
      { lineage: 'reforget', requestIds: ['reforget-a'], version: 1, attempt: 1 },
      { lineage: 'reforget', requestIds: ['reforget-a'], version: 2, attempt: 1 },
    ]);
    const trained = h.plane.callsOf('unlearn', 'reforget').map((c) => c.input as { parentAdapter: { path: string } | null; forgetSet: { path: string } });
    assert.deepEqual(trained.map((u) => [u.parentAdapter?.path ?? null, u.forgetSet.path]), [
      [null, '/tmp/forget/reforget/reforget-a.json'],
      ['/adapters/reforget/v1.safetensors', '/tmp/forget/reforget/reforget-v1.json'],
      ['/adapters/reforget/v2.safetensors', '/tmp/forget/reforget/reforget-v2.json'],
    ]);
    assert.deepEqual(h.plane.callsOf('audit', 'reforget').map((c) => (c.input as { versionNumber: number }).versionNumber), [1, 2, 3]);
    const rejections = h.plane.callsOf('rejectCandidate', 'reforget').map((c) => c.input as { version: number; requestStatus: string | null; reason: string });
    assert.deepEqual(rejections.map((r) => [r.version, r.requestStatus]), [[1, 'UNCHANGED'], [2, 'UNCHANGED']]);
    assert.match(rejections[0].reason, /continued by re-forget pass 1 of attempt 1 \(version 2\) on 2 forgotten people .*: s1, s2/);
    await eventually(() => assert.deepEqual(h.plane.discardedFiles.filter((f) => f.includes('/reforget/')).sort(), [
      '/tmp/forget/reforget/reforget-a.json', '/tmp/forget/reforget/reforget-v1.json', '/tmp/forget/reforget/reforget-v2.json',
    ]));
  });

  it('stops re-forgetting when the audit finds nobody above the limit; a retry starts again from the champion and may re-forget again', async () => {
    const retry = {
      metrics: null, decision: 'FAIL' as const, reasons: ['cumulativeForget.text.accuracy = 0.45 > 0.35'],
      escalation: { direction: 'STRENGTHEN_FORGETTING' as const, learningRateFactor: 1.5, epochsFactor: 2, suggestion: 'more' },
    };
    h.plane.addLineage('reforget-retry', { reforgetPasses: 3, reforgetPicks: [['s1']], decisions: [retry, retry] });
    await submit('reforget-retry', ['reforget-retry-a']);
    await eventually(() => assertStatus('reforget-retry-a', 'COMPLETED'));
    const versions = h.plane.lineages.get('reforget-retry')!.versions;
    assert.deepEqual(versions.map((v) => [v.number, v.parent, v.status]), [[0, null, 'SUPERSEDED'], [1, 0, 'REJECTED'], [2, 1, 'REJECTED'], [3, 0, 'PROMOTED']]);
    assert.deepEqual(h.plane.callsOf('planReforget', 'reforget-retry').map((c) => (c.input as { version: number; attempt: number })), [
      { lineage: 'reforget-retry', requestIds: ['reforget-retry-a'], version: 1, attempt: 1 },
      { lineage: 'reforget-retry', requestIds: ['reforget-retry-a'], version: 2, attempt: 1 },
      { lineage: 'reforget-retry', requestIds: ['reforget-retry-a'], version: 3, attempt: 2 },
    ]);
    // The retry gates version 2 (the last pass), and trains the escalated settings from the champion.
    const rejections = h.plane.callsOf('rejectCandidate', 'reforget-retry').map((c) => c.input as { version: number; reason: string });
    assert.deepEqual(rejections.map((r) => r.version), [1, 2]);
    assert.match(rejections[1].reason, /^retrying with escalated settings/);
    const lastUnlearn = h.plane.callsOf('unlearn', 'reforget-retry').at(-1)!.input as { parentAdapter: unknown; hyperParameters: { learningRate: number } };
    assert.equal(lastUnlearn.parentAdapter, null);
    assert.equal(lastUnlearn.hyperParameters.learningRate, 0.0015);
  });

  it('never trades a candidate that passed the gate for a re-forget pass that does not', async () => {
    const promote = { metrics: null, decision: 'PASS' as const, reasons: [] };
    const retry = {
      metrics: null, decision: 'FAIL' as const, reasons: ['forget.text.accuracy = 0.380 > 0.350'],
      escalation: { direction: 'STRENGTHEN_FORGETTING' as const, learningRateFactor: 1.5, epochsFactor: 2, suggestion: 'more' },
    };
    h.plane.addLineage('reforget-keep', { reforgetPasses: 3, reforgetPicks: [['s1'], ['s2'], ['s3']], decisions: [promote, promote, retry] });
    await submit('reforget-keep', ['reforget-keep-a']);
    await eventually(() => assertStatus('reforget-keep-a', 'COMPLETED'));
    const versions = h.plane.lineages.get('reforget-keep')!.versions;
    // v1 passes and is continued by v2, which passes; v3 does not, so v2 is promoted and no further pass runs.
    assert.deepEqual(versions.map((v) => [v.number, v.parent, v.status, v.reforgottenSubjectIds]), [
      [0, null, 'SUPERSEDED', []], [1, 0, 'REJECTED', []], [2, 1, 'PROMOTED', ['s1']], [3, 2, 'REJECTED', ['s1', 's2']],
    ]);
    assert.equal(h.plane.requests.get('reforget-keep-a')!.modelVersion, 2);
    assert.equal(h.plane.callsOf('planReforget', 'reforget-keep').length, 2);
    const rejections = h.plane.callsOf('rejectCandidate', 'reforget-keep').map((c) => c.input as { version: number; requestStatus: string | null; reason: string });
    assert.deepEqual(rejections.map((r) => [r.version, r.requestStatus]), [[1, 'UNCHANGED'], [3, 'UNCHANGED']]);
    assert.match(rejections[1].reason, /re-forget pass 2 of attempt 1 did not pass the gate, version 2 did and is kept: forget.text.accuracy/);
  });

  it('never trades a candidate for a re-forget pass that leaves more forgotten people above the per-person goal', async () => {
    // v1: s1 above 0.4; pass 1 (v2) takes it down and leaves s2 at 2 of 5; pass 2 (v3) lifts s2 to 3 of 5: v2 is kept.
    h.plane.addLineage('reforget-goal', {
      reforgetPasses: 3, reforgetPicks: [['s1'], ['s1', 's2'], ['s2']],
      decisions: [audited({ s1: [4, 3], s2: [0, 1] }), audited({ s1: [1, 2], s2: [2, 1] }), audited({ s1: [0, 0], s2: [1, 3], c9: [5, 5] })],
    });
    await submit('reforget-goal', ['reforget-goal-a']);
    await eventually(() => assertStatus('reforget-goal-a', 'COMPLETED'));
    assert.deepEqual(h.plane.lineages.get('reforget-goal')!.versions.map((v) => [v.number, v.parent, v.status]), [
      [0, null, 'SUPERSEDED'], [1, 0, 'REJECTED'], [2, 1, 'PROMOTED'], [3, 2, 'REJECTED'],
    ]);
    assert.equal(h.plane.callsOf('planReforget', 'reforget-goal').length, 2, 'no pass after the kept candidate');
    const rejections = h.plane.callsOf('rejectCandidate', 'reforget-goal').map((c) => c.input as { version: number; requestStatus: string | null; reason: string });
    assert.deepEqual(rejections.map((r) => [r.version, r.requestStatus]), [[1, 'UNCHANGED'], [3, 'UNCHANGED']]);
    assert.match(rejections[1].reason, /re-forget pass 2 of attempt 1 leaves 1 forgotten people above 0.4 where version 2 left 0; version 2 is kept/);
  });

  it('after the passes, tries goal passes on the people still above the goal, each with its own seed, keeping only one that leaves fewer', async () => {
    // v1: s1 above; the one pass (v2) takes s1 down and lifts s2; goal pass 1 (v3) takes s2 down and lifts s1 again: rejected;
    // goal pass 2 (v4), from v2 with another seed, leaves nobody above: kept, and no third goal pass is needed.
    h.plane.addLineage('goal-passes', {
      reforgetPasses: 1, reforgetPicks: [['s1'], ['s2'], ['s2'], ['s2']],
      decisions: [audited({ s1: [4, 3], s2: [0, 1] }), audited({ s1: [1, 2], s2: [3, 1] }), audited({ s1: [3, 0], s2: [0, 0] }), audited({ s1: [1, 1], s2: [1, 0] })],
    });
    await submit('goal-passes', ['goal-passes-a']);
    await eventually(() => assertStatus('goal-passes-a', 'COMPLETED'));
    assert.deepEqual(h.plane.lineages.get('goal-passes')!.versions.map((v) => [v.number, v.parent, v.status]), [
      [0, null, 'SUPERSEDED'], [1, 0, 'REJECTED'], [2, 1, 'REJECTED'], [3, 2, 'REJECTED'], [4, 2, 'PROMOTED'],
    ]);
    const plans = h.plane.callsOf('planReforget', 'goal-passes').map((c) => c.input as { version: number; aboveAccuracy?: number });
    assert.deepEqual(plans.map((p) => [p.version, p.aboveAccuracy]), [[1, undefined], [2, 0.4], [2, 0.4]]);
    const unlearns = h.plane.callsOf('unlearn', 'goal-passes').map((c) => c.input as UnlearnInput);
    assert.equal(unlearns.length, 4);
    assert.deepEqual(unlearns.map((u) => u.hyperParameters.ascentObjective), [undefined, undefined, 'logOdds', 'logOdds']);
    assert.deepEqual(unlearns.slice(2).map((u) => u.seed - unlearns[0].seed), [1, 2], 'each goal pass tries its own seed');
    const rejections = h.plane.callsOf('rejectCandidate', 'goal-passes').map((c) => c.input as { version: number; reason: string });
    assert.deepEqual(rejections.map((r) => r.version), [1, 3, 2]);
    assert.match(rejections[1].reason, /goal pass 1 of attempt 1 on s2 leaves 1 forgotten people above 0.4 \(gate: PASS\) where version 2 left 1; version 2 is kept/);
    assert.match(rejections[2].reason, /continued by goal pass 2 of attempt 1 \(version 4\)/);
  });

  it('takes the goal line and the number of goal passes from the lineage\'s gate policy', async () => {
    // Line 0.6, one goal pass: after the one re-forget pass (v2) s2 is at 4 of 5; the goal pass (v3) leaves s2 there, so v2 is kept.
    h.plane.addLineage('goal-policy', {
      reforgetPasses: 1, reforgetPicks: [['s1'], ['s2'], ['s2']], gatePolicy: { goal: { maxForgottenAccuracy: 0.6, passes: 1 } },
      decisions: [audited({ s1: [4, 3], s2: [0, 1] }), audited({ s1: [1, 2], s2: [4, 1] }), audited({ s1: [3, 0], s2: [4, 0] })],
    });
    await submit('goal-policy', ['goal-policy-a']);
    await eventually(() => assertStatus('goal-policy-a', 'COMPLETED'));
    const plans = h.plane.callsOf('planReforget', 'goal-policy').map((c) => c.input as { version: number; aboveAccuracy?: number });
    assert.deepEqual(plans.map((p) => [p.version, p.aboveAccuracy]), [[1, undefined], [2, 0.6]], 'one goal pass, on the people above 0.6');
    assert.deepEqual(h.plane.lineages.get('goal-policy')!.versions.map((v) => [v.number, v.parent, v.status]), [
      [0, null, 'SUPERSEDED'], [1, 0, 'REJECTED'], [2, 1, 'PROMOTED'], [3, 2, 'REJECTED'],
    ]);
    const rejections = h.plane.callsOf('rejectCandidate', 'goal-policy').map((c) => c.input as { version: number; reason: string });
    assert.match(rejections[1].reason, /goal pass 1 of attempt 1 on s2 leaves 1 forgotten people above 0.6 \(gate: PASS\) where version 2 left 1; version 2 is kept/);
  });

  it('tries no goal pass when the candidate leaves nobody above the goal', async () => {
    h.plane.addLineage('goal-met', { reforgetPasses: 1, reforgetPicks: [['s1'], ['s1']], decisions: [audited({ s1: [3, 1], s2: [0, 0] }), audited({ s1: [1, 2], s2: [2, 0] })] });
    await submit('goal-met', ['goal-met-a']);
    await eventually(() => assertStatus('goal-met-a', 'COMPLETED'));
    assert.equal(h.plane.callsOf('planReforget', 'goal-met').length, 1, 'the one pass, no goal pass');
    assert.deepEqual(h.plane.lineages.get('goal-met')!.versions.map((v) => [v.number, v.status]), [[0, 'SUPERSEDED'], [1, 'REJECTED'], [2, 'PROMOTED']]);
  });

  it('re-forgets after a candidate that lost retain or general ability too: the pass may bring them back', async () => {
    const utility = {
      metrics: null, decision: 'FAIL' as const, reasons: ['retain.text.ofBaseline = 0.829 < 0.850 (RETAIN)'],
      escalation: { direction: 'PROTECT_UTILITY' as const, method: 'ga_klr' as const, learningRateFactor: 0.5, epochsFactor: 1, suggestion: 'gentler' },
    };
    h.plane.addLineage('reforget-utility', { reforgetPasses: 3, reforgetPicks: [['s1']], decisions: [utility] });
    await submit('reforget-utility', ['reforget-utility-a']);
    await eventually(() => assertStatus('reforget-utility-a', 'COMPLETED'));
    // Attempt 1's pass passes the gate and is promoted; then the audit finds nobody.
    assert.deepEqual(h.plane.callsOf('planReforget', 'reforget-utility').map((c) => (c.input as { version: number; attempt: number })).map((i) => [i.version, i.attempt]), [[1, 1], [2, 1]]);
    assert.deepEqual(h.plane.lineages.get('reforget-utility')!.versions.map((v) => [v.number, v.parent, v.status]), [
      [0, null, 'SUPERSEDED'], [1, 0, 'REJECTED'], [2, 1, 'PROMOTED'],
    ]);
    assert.equal(h.plane.callsOf('unlearn', 'reforget-utility').length, 2, 'no retry from the champion');
  });

  it('asks for no re-forget pass on a lineage without them', async () => {
    h.plane.addLineage('no-reforget', { reforgetPicks: [['s1']] });
    await submit('no-reforget', ['no-reforget-a']);
    await eventually(() => assertStatus('no-reforget-a', 'COMPLETED'));
    assert.equal(h.plane.callsOf('planReforget', 'no-reforget').length, 0);
    assert.equal(h.plane.callsOf('unlearn', 'no-reforget').length, 1);
  });

  it('completes an inline profile without training when version 0 shows no knowledge of the person', async () => {
    const lineage = h.plane.addLineage('no-knowledge', { gatePolicy: { forget: { requireUnlearning: false } } });
    // Version 0's audit, scored first for a step of inline profiles only.
    lineage.decisions.push({ decision: 'FAIL', reasons: ['forget text 0.2 above chance'], metrics: null, noKnowledgeFound: true });
    await submit('no-knowledge', ['inline-nk-a', 'no-knowledge-b']);
    await eventually(() => assertStatus('no-knowledge-b', 'COMPLETED'));
    assertStatus('inline-nk-a', 'COMPLETED');
    assert.equal(h.plane.requests.get('inline-nk-a')!.modelVersion, 0, 'carried out by version 0: no version learned them');
    const audits = h.plane.callsOf('audit', 'no-knowledge').map((c) => c.input as { versionNumber: number; adapter: unknown; inlineProfiles?: unknown });
    assert.deepEqual(audits.map((a) => [a.versionNumber, a.adapter === null, a.inlineProfiles !== undefined]), [[0, true, true], [1, false, false]]);
    assert.deepEqual(h.plane.callsOf('completeWithoutUnlearning', 'no-knowledge').map((c) => (c.input as { requestIds: string[] }).requestIds), [['inline-nk-a']]);
    // Only the dataset person's step trained; both steps' forget sets were discarded.
    assert.equal(h.plane.callsOf('unlearn', 'no-knowledge').length, 1);
    await eventually(() => assert.equal(h.plane.discardedFiles.filter((f) => f.includes('/no-knowledge/')).length, 2));
  });

  it('trains an inline profile that version 0 knows, or when the policy requires unlearning anyway', async () => {
    const known = h.plane.addLineage('profile-known', { gatePolicy: { forget: { requireUnlearning: false } } });
    known.decisions.push({ decision: 'FAIL', reasons: [], metrics: null, noKnowledgeFound: false });
    const required = h.plane.addLineage('profile-required');
    required.decisions.push({ decision: 'FAIL', reasons: [], metrics: null, noKnowledgeFound: true });
    await submit('profile-known', ['inline-known-a']);
    await submit('profile-required', ['inline-required-a']);
    await eventually(() => ['inline-known-a', 'inline-required-a'].forEach((id) => assertStatus(id, 'COMPLETED')));
    for (const name of ['profile-known', 'profile-required']) {
      assert.equal(h.plane.callsOf('unlearn', name).length, 1, name);
      assert.equal(h.plane.callsOf('completeWithoutUnlearning', name).length, 0, name);
    }
    assert.deepEqual(['inline-known-a', 'inline-required-a'].map((id) => h.plane.requests.get(id)!.modelVersion), [1, 1]);
  });

  it('marks a request FAILED with the reason when an activity fails, and serves the next one', async () => {
    const lineage = h.plane.addLineage('failure');
    lineage.unlearnFailure = { type: 'NAN_LOSS', message: 'loss became NaN at step 3' };
    await submit('failure', ['failure-a', 'failure-b']);
    await eventually(() => assertStatus('failure-b', 'COMPLETED'));
    assertStatus('failure-a', 'FAILED');
    assert.equal(h.plane.requests.get('failure-a')!.reason, 'unlearn failed: NAN_LOSS: loss became NaN at step 3');
    // A non-retryable error is not retried, and no candidate was recorded for the failed step.
    assert.equal(h.plane.callsOf('unlearn', 'failure').length, 2);
    await eventually(() => assert.equal(h.plane.discardedFiles.filter((f) => f.includes('/failure/')).length, 2));
  });

  it('rolls back: moves the champion, reopens the undone requests and carries them out again', async () => {
    h.plane.addLineage('rollback');
    await submit('rollback', ['rollback-a', 'rollback-b']);
    await eventually(() => ['rollback-a', 'rollback-b'].forEach((id) => assertStatus(id, 'COMPLETED')));
    await assert.rejects(h.queue.rollback('rollback', 9, 'bad', 'operator:alice'), (err: unknown) => err instanceof OrchestrationError && err.code === 'NOT_FOUND');
    await assert.rejects(h.queue.rollback('rollback', 2, 'noop', 'operator:alice'), (err: unknown) => err instanceof OrchestrationError && err.code === 'BAD_USER_INPUT');
    await assert.rejects(h.queue.rollback('rollback', -1, 'bad', 'operator:alice'), (err: unknown) => err instanceof OrchestrationError && err.field === 'toVersion');
    await h.queue.rollback('rollback', 1, 'version 2 hurts general accuracy', 'operator:alice');
    await eventually(() => assert.equal(h.plane.requests.get('rollback-b')!.modelVersion, 3));
    assertStatus('rollback-b', 'COMPLETED');
    const versions = h.plane.lineages.get('rollback')!.versions;
    assert.deepEqual(versions.map((v) => [v.number, v.parent, v.status]), [
      [0, null, 'SUPERSEDED'], [1, 0, 'SUPERSEDED'], [2, 1, 'ROLLED_BACK'], [3, 1, 'PROMOTED'],
    ]);
    // A ROLLED_BACK version cannot become champion again.
    await assert.rejects(h.queue.rollback('rollback', 2, 'undo', 'operator:alice'), (err: unknown) => err instanceof OrchestrationError && err.code === 'BAD_USER_INPUT');
    // While a candidate waits for a review, a rollback is refused at once rather than left hanging.
    h.plane.lineages.get('rollback')!.decisions.push({ metrics: null, decision: 'REVIEW', reasons: ['borderline'] });
    await submit('rollback', ['rollback-c']);
    await eventually(() => assertStatus('rollback-c', 'NEEDS_REVIEW'));
    await assert.rejects(h.queue.rollback('rollback', 1, 'again', 'operator:alice'), (err: unknown) => err instanceof OrchestrationError && err.code === 'CONFLICT' && err.field === 'toVersion');
    await h.queue.review('rollback', 'rollback-c', 'REJECT', 'not now', 'operator:alice');
    await eventually(() => assertStatus('rollback-c', 'REJECTED'));
  });

  it('unlearns requests arriving within the batching window as one step', async () => {
    h.plane.addLineage('batch', { batchingWindowMs: 1500 });
    await submit('batch', ['batch-a', 'batch-b', 'batch-c']);
    await eventually(() => ['batch-a', 'batch-b', 'batch-c'].forEach((id) => assertStatus(id, 'COMPLETED')));
    const steps = h.plane.callsOf('beginRequest', 'batch').map((c) => (c.input as { requestIds: string[] }).requestIds);
    assert.deepEqual(steps, [['batch-a', 'batch-b', 'batch-c']]);
    assert.deepEqual(['batch-a', 'batch-b', 'batch-c'].map((id) => h.plane.requests.get(id)!.modelVersion), [1, 1, 1]);
  });
});
