// Across the language boundary: the lineage workflow calls the real Python worker on queue `gpu`
// (activity names, JSON payloads, heartbeat-free failure path). The scripted plan points at a
// model directory that does not exist, so the worker refuses with its typed, non-retryable error,
// and the workflow records the reason and serves the next request.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { eventually, startHarness, type Harness } from './harness';
import { startPythonWorker, type RunningPythonWorker } from './python-worker';

let h: Harness;
let python: RunningPythonWorker;
before(async () => {
  h = await startHarness({ scriptedGpu: false });
  python = await startPythonWorker(h.temporal.server.address);
});
after(async () => {
  await python?.stop();
  await h?.stop();
});

it('a bad unlearn input fails once, non-retryably, with the Python error code as the reason', async () => {
  h.plane.addLineage('py');
  for (const id of ['py-a', 'py-b']) {
    h.plane.addRequest('py', id);
    await h.queue.enqueue('py', id);
  }
  await eventually(() => ['py-a', 'py-b'].forEach((id) => assert.equal(h.plane.status(id), 'FAILED', `${id}: ${JSON.stringify(h.plane.requests.get(id))}\n${python.output().slice(-1500)}`)), 60_000);
  const reason = h.plane.requests.get('py-a')!.reason ?? '';
  assert.equal(reason, 'unlearn failed: MODEL_NOT_FOUND: baseModel.path /models/tiny does not exist or is not a directory');
});

it('the Python worker stops cleanly on SIGTERM', async () => {
  assert.equal(await python.stop(), 0, python.output().slice(-1500));
});
