// What the console's progress line reads from an activity's heartbeat (src/orchestration/domain/heartbeat.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heartbeatCount } from '../../src/orchestration/domain/heartbeat';

describe('heartbeat counts', () => {
  it('reads the GPU worker\'s "step/total" and the audit\'s {scored, total}', () => {
    assert.deepEqual(heartbeatCount('3/12'), { step: 3, total: 12 });
    assert.deepEqual(heartbeatCount(' 0/5 '), { step: 0, total: 5 });
    assert.deepEqual(heartbeatCount({ scored: 64, total: 553 }), { step: 64, total: 553 });
  });

  it('finds no count in anything else', () => {
    for (const details of [undefined, null, '', 'step 3', '3/', '-1/4', '1.5/4', 7, { scored: -1, total: 3 }, { scored: 1 }, { step: 1, total: 2 }, ['1/2']]) {
      assert.equal(heartbeatCount(details), null, JSON.stringify(details));
    }
  });
});
