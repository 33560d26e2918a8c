// Features import each other in one direction only (scripts/feature-cycles.cjs reads the imports of src/).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

describe('feature imports', () => {
  it('no import cycle between the folders of src/', () => {
    const run = spawnSync(process.execPath, [path.resolve(__dirname, '../../../scripts/feature-cycles.cjs')], { encoding: 'utf8' });
    assert.match(run.stdout, /requests -> lineages/, 'the script read the imports');
    assert.equal(run.status, 0, run.stdout.split('\n').filter((l) => l.startsWith('CYCLE')).join('\n'));
  });
});
