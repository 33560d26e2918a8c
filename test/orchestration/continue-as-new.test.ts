// Continue-as-new on the real dev server, made frequent by the server's own suggestion threshold
// (limit.historyCount.suggestContinueAsNew) so a few requests span several runs.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
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
