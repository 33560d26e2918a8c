// Continue-as-new on the real dev server, made frequent by the server's own suggestion threshold
// (limit.historyCount.suggestContinueAsNew) so a few requests span several runs, and thousands of
// submissions and cancels leave every run's history and the carried state small.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { FINISHED_REQUESTS_REMEMBERED } from '../../workflows/lineage.workflow';
import { lineageWorkflowId } from '../../workflows/messages';
import { eventually, recordHistories, startHarness, type Harness } from './harness';

let h: Harness;
before(async () => {
  h = await startHarness({ dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 } });
});
after(async () => {
  if (h) {
    const chain = (await runChain(lineageWorkflowId('can'))).reverse();
    await recordHistories(h, chain.map((runId, i) => ({ name: `can-run${i + 1}`, workflowId: lineageWorkflowId('can'), runId })));
  }
  await h?.stop();
});

/** Run ids of the workflow's chain, newest first, following continuedExecutionRunId. */
async function runChain(workflowId: string): Promise<string[]> {
  const chain: string[] = [];
  let runId: string | undefined = (await h.temporal.client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    chain.push(runId);
    const history = await h.temporal.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return chain;
}

it('continues as new with the queue and the dedupe keys', async () => {
  h.plane.addLineage('can');
  const release = h.plane.holdUnlearn('can');
  const ids = Array.from({ length: 5 }, (_, i) => `can-r${i + 1}`);
  for (const id of ids) {
    h.plane.addRequest('can', id);
    await h.queue.enqueue('can', id);
  }
  release();
  await eventually(() => ids.forEach((id) => assert.equal(h.plane.status(id), 'COMPLETED', id)), 60_000);
  const begun = h.plane.callsOf('beginRequest', 'can').flatMap((c) => (c.input as { requestIds: string[] }).requestIds);
  assert.deepEqual(begun, ids, 'FIFO order across runs');
  const chain = await runChain(lineageWorkflowId('can'));
  assert.ok(chain.length >= 3, `expected several runs, got ${chain.length}`);
  // The newest run still knows every request: enqueueing an old one again does nothing.
  const state = await h.queue.state('can');
  assert.deepEqual([...state.known].sort(), ids);
  await h.queue.enqueue('can', ids[0]);
  assert.deepEqual((await h.queue.state('can')).queue, []);
  assert.equal(h.plane.callsOf('unlearn', 'can').length, ids.length);
  // The export result survives too: one export_onnx for the whole chain.
  assert.equal(h.plane.calls.filter((c) => c.name === 'export_onnx').length, 1);
});

it('thousands of submissions and cancels: each run\'s history stays near the threshold, the carried state bounded', { timeout: 240_000 }, async () => {
  const lineage = 'busy';
  // A window gathers each round's survivors into one step, so the steps keep up with intake.
  h.plane.addLineage(lineage, { batchingWindowMs: 300 });
  const ROUNDS = 30;
  const PER_ROUND = 60;
  const all: string[] = [];
  const canceled = new Set<string>();
  for (let round = 0; round < ROUNDS; round++) {
    const ids = Array.from({ length: PER_ROUND }, (_, i) => `busy-${round}-${i}`);
    ids.forEach((id) => h.plane.addRequest(lineage, id));
    all.push(...ids);
    // What the outbox sends: one update for the batch, and again when it lost the answer.
    await h.queue.enqueueMany(lineage, ids);
    await h.queue.enqueueMany(lineage, ids);
    // Requesters withdraw two in three while they wait (one update each, as the API sends them).
    const withdrawn = ids.filter((_, i) => i % 3 !== 0);
    const results = await Promise.all(withdrawn.map((id) => h.queue.cancel(lineage, id)));
    withdrawn.forEach((id, i) => {
      if (!results[i]) return; // its step had begun
      canceled.add(id);
      h.plane.requests.get(id)!.status = 'CANCELED'; // what the API records with the cancel
    });
  }
  const ran = all.filter((id) => !canceled.has(id));
  assert.ok(canceled.size > ROUNDS * PER_ROUND * 0.5, `most cancels came before their step: ${canceled.size}`);
  await eventually(() => ran.forEach((id) => assert.equal(h.plane.status(id), 'COMPLETED', id)), 120_000);
  const begun = h.plane.callsOf('beginRequest', lineage).flatMap((c) => (c.input as { requestIds: string[] }).requestIds);
  assert.equal(new Set(begun.filter((id) => !canceled.has(id))).size, ran.length, 'each request that ran was begun');
  assert.equal(begun.length, new Set(begun).size, 'and begun once, across runs');

  const chain = await runChain(lineageWorkflowId(lineage));
  const lengths = await Promise.all(chain.map(async (runId) => (await h.temporal.client.workflow.getHandle(lineageWorkflowId(lineage), runId).fetchHistory()).events?.length ?? 0));
  const total = lengths.reduce((a, b) => a + b, 0);
  assert.ok(chain.length >= 10, `${chain.length} runs for ${total} events`);
  // A run continues as new at the first moment no step runs after the suggestion (40 events): past
  // it by one step and the messages that arrive meanwhile (about 500 here), never the whole history.
  assert.ok(Math.max(...lengths) < 1000 && Math.max(...lengths) < total / 5, `longest run ${Math.max(...lengths)} events of ${total}`);
  const state = await h.queue.state(lineage);
  assert.deepEqual(state.queue, []);
  assert.ok(state.known.length <= FINISHED_REQUESTS_REMEMBERED * 1.5 + PER_ROUND, `${state.known.length} known after ${all.length} requests`);
  assert.ok(JSON.stringify(state).length < 150_000, 'the state carried to the next run stays small');
});
