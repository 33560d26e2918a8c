// resizeLikePillow must give exactly Pillow's pixels (the Python worker's image processor resizes
// with Pillow); checked against the real Pillow in the worker's Python environment.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { PIL_RESAMPLING, resizeLikePillow, shortestEdgeSize } from '../../../src/audits/runtime/pillow-resize';

const PILLOW_RESIZE = `
import sys, json
from PIL import Image
w, h, nw, nh, resample = map(int, sys.argv[1:6])
img = Image.frombytes("RGB", (w, h), sys.stdin.buffer.read())
sys.stdout.buffer.write(img.resize((nw, nh), resample=resample).tobytes())
`;

function pillowResize(pixels: Uint8Array, w: number, h: number, nw: number, nh: number, resample: number): Uint8Array {
  const python = process.env.LETHE_PYTHON;
  assert.ok(python, 'LETHE_PYTHON must be set (npm test sets it)');
  const r = spawnSync(python, ['-c', PILLOW_RESIZE, ...[w, h, nw, nh, resample].map(String)], { input: pixels, maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr?.toString());
  return new Uint8Array(r.stdout);
}

function randomImage(w: number, h: number, seed: number): Uint8Array {
  let state = seed;
  const out = new Uint8Array(w * h * 3);
  for (let i = 0; i < out.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    // blocks plus noise: sharp edges and smooth areas both appear
    out[i] = ((Math.floor(i / 3 / 7) * 37) & 0xff) ^ ((state >>> 16) & 0x3f);
  }
  return out;
}

describe('resizeLikePillow', () => {
  const cases: [number, number, number, number][] = [
    [64, 64, 32, 32], // the tiny model's portraits
    [48, 48, 32, 32],
    [50, 37, 43, 32], // non-integer factors, non-square
    [20, 30, 45, 67], // upscaling
    [64, 48, 64, 24], // vertical pass only
  ];
  for (const [name, resample] of Object.entries(PIL_RESAMPLING)) {
    it(`matches Pillow ${name} exactly`, () => {
      cases.forEach(([w, h, nw, nh], k) => {
        const pixels = randomImage(w, h, 17 + k);
        const ours = resizeLikePillow(pixels, w, h, 3, nw, nh, resample);
        const pillow = pillowResize(pixels, w, h, nw, nh, resample);
        assert.equal(ours.length, pillow.length);
        const differing = ours.reduce((n, v, i) => n + (v !== pillow[i] ? 1 : 0), 0);
        assert.equal(differing, 0, `${w}x${h} -> ${nw}x${nh}: ${differing} bytes differ`);
      });
    });
  }

  it('computes the shortest-edge size as transformers does', () => {
    assert.deepEqual(shortestEdgeSize(64, 64, 32), { width: 32, height: 32 });
    assert.deepEqual(shortestEdgeSize(500, 375, 336), { width: 448, height: 336 });
    assert.deepEqual(shortestEdgeSize(375, 500, 336), { width: 336, height: 448 });
  });

  it('rejects a filter it does not implement', () => {
    assert.throws(() => resizeLikePillow(new Uint8Array(12), 2, 2, 3, 1, 1, 0), /filter 0 is not supported/);
  });
});
