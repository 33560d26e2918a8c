// Writes safetensors files for tests (the format: 8-byte little-endian header length, JSON header
// with dtype/shape/data_offsets per tensor, then the raw little-endian bytes).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { AdapterRef } from '../../../src/audits/domain/eval-item';

export interface TestTensor {
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  /** Raw element bytes (little-endian) in the tensor's dtype. */
  bytes: Buffer;
}

export function f32(values: number[], shape: number[]): TestTensor {
  return { dtype: 'F32', shape, bytes: Buffer.from(new Float32Array(values).buffer) };
}

export function safetensorsBytes(tensors: Record<string, TestTensor>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...Object.values(tensors).map((t) => t.bytes)]);
}

/** Writes the bytes and returns an adapter reference with their true sha256. */
export function writeAdapter(file: string, bytes: Buffer): AdapterRef {
  fs.writeFileSync(file, bytes);
  return { path: file, sha256: createHash('sha256').update(bytes).digest('hex') };
}
