import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { trainingCodeFingerprint } from '../../pulse/fingerprint';

describe('PULSE cache keys', () => {
  it('a change to the training code gives its adapters a new place; its bytecode cache and its file times do not', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-code-'));
    try {
      const file = path.join(dir, 'unlearn.py');
      fs.writeFileSync(file, 'def held(): return drills\n');
      const before = trainingCodeFingerprint(dir);
      fs.mkdirSync(path.join(dir, '__pycache__'));
      fs.writeFileSync(path.join(dir, '__pycache__', 'unlearn.cpython-311.pyc'), 'bytecode');
      fs.utimesSync(file, new Date(0), new Date(0));
      assert.equal(trainingCodeFingerprint(dir), before);
      fs.writeFileSync(file, 'def held(): return everything\n');
      assert.notEqual(trainingCodeFingerprint(dir), before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('two checkouts of the same training code share their adapters; a renamed file does not', () => {
    const [a, b] = [fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-clone-a-')), fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-clone-b-'))];
    try {
      for (const dir of [a, b]) fs.writeFileSync(path.join(dir, 'unlearn.py'), 'def held(): return drills\n');
      assert.equal(trainingCodeFingerprint(a), trainingCodeFingerprint(b));
      fs.renameSync(path.join(b, 'unlearn.py'), path.join(b, 'losses.py'));
      assert.notEqual(trainingCodeFingerprint(a), trainingCodeFingerprint(b));
    } finally {
      for (const dir of [a, b]) fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
