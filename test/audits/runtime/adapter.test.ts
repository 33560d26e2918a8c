// Reading LoRA tensors from a peft safetensors file in TypeScript: sha256 first, then a strict parse.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditRuntimeError, LoraInputSpec, loadLoraFeeds } from '../../../src/audits/runtime';
import { f32, safetensorsBytes, writeAdapter } from './safetensors-writer';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-adapter-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const SPECS: LoraInputSpec[] = [
  { name: 'lora.m.q_proj.A', graph: 'decoder', module: 'm.q_proj', kind: 'A', shape: [2, 3], adapterKey: 'base_model.model.m.q_proj.lora_A.weight' },
  { name: 'lora.m.q_proj.B', graph: 'decoder', module: 'm.q_proj', kind: 'B', shape: [4, 2], adapterKey: 'base_model.model.m.q_proj.lora_B.weight' },
];
const A = [1, -2, 3.5, 0.25, 5, -6];
const B = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, -4];

function validTensors() {
  return {
    'base_model.model.m.q_proj.lora_A.weight': f32(A, [2, 3]),
    'base_model.model.m.q_proj.lora_B.weight': f32(B, [4, 2]),
  };
}

function rejects(fn: () => unknown, reason: string): void {
  assert.throws(fn, (e: unknown) => e instanceof AuditRuntimeError && e.reason === reason, `expected ${reason}`);
}

describe('loadLoraFeeds', () => {
  it('returns each tensor under its graph input name, as fp32', () => {
    const ref = writeAdapter(path.join(dir, 'ok.safetensors'), safetensorsBytes(validTensors()));
    const feeds = loadLoraFeeds(ref, SPECS);
    assert.deepEqual(Array.from(feeds.get('lora.m.q_proj.A')!), A);
    assert.deepEqual(Array.from(feeds.get('lora.m.q_proj.B')!), B);
  });

  it('converts bf16 and fp16 tensors (GPU-trained adapters) to fp32', () => {
    const bf16 = Buffer.alloc(A.length * 2);
    const asBits = new Uint32Array(new Float32Array(A).buffer);
    asBits.forEach((bits, i) => bf16.writeUInt16LE(bits >>> 16, 2 * i)); // the values above are exact in bf16
    const fp16 = Buffer.from([0x00, 0x38, 0x00, 0x3c, 0x00, 0x3e, 0x00, 0x40, 0x00, 0x41, 0x00, 0x42, 0x00, 0x43, 0x00, 0xc4]);
    const ref = writeAdapter(path.join(dir, 'half.safetensors'), safetensorsBytes({
      'base_model.model.m.q_proj.lora_A.weight': { dtype: 'BF16', shape: [2, 3], bytes: bf16 },
      'base_model.model.m.q_proj.lora_B.weight': { dtype: 'F16', shape: [4, 2], bytes: fp16 },
    }));
    const feeds = loadLoraFeeds(ref, SPECS);
    assert.deepEqual(Array.from(feeds.get('lora.m.q_proj.A')!), A);
    assert.deepEqual(Array.from(feeds.get('lora.m.q_proj.B')!), B);
  });

  it('feeds zeros of every manifest shape for version 0', () => {
    const feeds = loadLoraFeeds(null, SPECS);
    assert.deepEqual(Array.from(feeds.get('lora.m.q_proj.A')!), new Array(6).fill(0));
    assert.equal(feeds.get('lora.m.q_proj.B')!.length, 8);
  });

  it('checks the sha256 before reading anything from the file', () => {
    const ref = writeAdapter(path.join(dir, 'garbage.safetensors'), Buffer.from('not a safetensors file at all'));
    rejects(() => loadLoraFeeds({ ...ref, sha256: '0'.repeat(64) }, SPECS), 'ADAPTER_SHA_MISMATCH');
    rejects(() => loadLoraFeeds(ref, SPECS), 'ADAPTER_CORRUPT');
  });

  it('rejects a missing file, a truncated file and a header that is not JSON', () => {
    rejects(() => loadLoraFeeds({ path: path.join(dir, 'absent.safetensors'), sha256: '0'.repeat(64) }, SPECS), 'ADAPTER_NOT_FOUND');
    const whole = safetensorsBytes(validTensors());
    rejects(() => loadLoraFeeds(writeAdapter(path.join(dir, 'cut.safetensors'), whole.subarray(0, whole.length - 4)), SPECS), 'ADAPTER_CORRUPT');
    const badJson = Buffer.from(whole);
    badJson.write('}', 8);
    rejects(() => loadLoraFeeds(writeAdapter(path.join(dir, 'json.safetensors'), badJson), SPECS), 'ADAPTER_CORRUPT');
  });

  it('rejects a missing tensor, a wrong shape, a foreign dtype and non-finite values', () => {
    const { ['base_model.model.m.q_proj.lora_B.weight']: _dropped, ...onlyA } = validTensors();
    rejects(() => loadLoraFeeds(writeAdapter(path.join(dir, 'missing.safetensors'), safetensorsBytes(onlyA)), SPECS), 'ADAPTER_KEY_MISSING');
    const transposed = { ...validTensors(), 'base_model.model.m.q_proj.lora_A.weight': f32(A, [3, 2]) };
    rejects(() => loadLoraFeeds(writeAdapter(path.join(dir, 'shape.safetensors'), safetensorsBytes(transposed)), SPECS), 'ADAPTER_SHAPE_MISMATCH');
    const ints = { ...validTensors(), 'base_model.model.m.q_proj.lora_A.weight': { dtype: 'I32', shape: [2, 3], bytes: Buffer.alloc(24) } };
    rejects(() => loadLoraFeeds(writeAdapter(path.join(dir, 'int.safetensors'), safetensorsBytes(ints as never)), SPECS), 'ADAPTER_SHAPE_MISMATCH');
    const nan = { ...validTensors(), 'base_model.model.m.q_proj.lora_A.weight': f32([1, 2, NaN, 4, 5, 6], [2, 3]) };
    rejects(() => loadLoraFeeds(writeAdapter(path.join(dir, 'nan.safetensors'), safetensorsBytes(nan)), SPECS), 'ADAPTER_CORRUPT');
  });
});
