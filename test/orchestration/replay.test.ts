// Replays the recorded lineage-workflow histories (test/orchestration/histories, recorded with
// LETHE_RECORD_HISTORIES=1 by the workflow tests) through the current workflow code: a change
// that is not replay-safe (non-determinism) fails here before it breaks running workflows.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { HISTORIES_DIR, lineageWorkflowBundle, loadRecordedHistory } from './harness';

it('replays every recorded history through the current workflow code', async () => {
  const files = fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 10, `expected the recorded histories in ${HISTORIES_DIR}, found ${files.length}`);
  const histories = files.map((file) => loadRecordedHistory(path.join(HISTORIES_DIR, file)));
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: await lineageWorkflowBundle() }, histories)) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.equal(replayed, files.length);
  assert.deepEqual(failures, []);
});
