// The candidate's LoRA tensors, read from its peft adapter_model.safetensors in TypeScript.
// The file's sha256 is checked against the version record BEFORE anything in it is parsed or used,
// and every tensor the graphs need must be present with exactly the manifest's shape.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { AdapterRef } from '../domain/eval-item';
import { LoraInputSpec } from './manifest';
import { AuditRuntimeError } from './runtime-error';

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** Byte range in the file. */
  begin: number;
  end: number;
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

/** Parses the header of a safetensors file (8-byte little-endian length, then JSON) and checks every range. */
export function parseSafetensorsHeader(bytes: Buffer, file: string): Map<string, SafetensorsEntry> {
  const corrupt = (why: string): never => {
    throw new AuditRuntimeError('ADAPTER_CORRUPT', `${file} is not a valid safetensors file: ${why}`);
  };
  if (bytes.length < 8) corrupt(`${bytes.length} bytes, shorter than the header length field`);
  const headerLength = bytes.readBigUInt64LE(0);
  if (headerLength > BigInt(bytes.length - 8)) corrupt(`header length ${headerLength} exceeds the file (${bytes.length} bytes)`);
  const dataStart = 8 + Number(headerLength);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, dataStart).toString('utf8'));
  } catch (e) {
    return corrupt(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) corrupt('header is not a JSON object');
  const entries = new Map<string, SafetensorsEntry>();
  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const offsets = v.data_offsets;
    if (typeof v.dtype !== 'string' || !Array.isArray(v.shape) || !Array.isArray(offsets) || offsets.length !== 2) {
      corrupt(`tensor ${key} lacks dtype, shape or data_offsets`);
    }
    const shape = v.shape as number[];
    const [begin, end] = (offsets as number[]).map((o) => dataStart + o);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0) || !(begin <= end) || end > bytes.length) {
      corrupt(`tensor ${key} has a bad shape or a byte range outside the file`);
    }
    const width = DTYPE_BYTES[v.dtype as string];
    if (width !== undefined && (end - begin) !== width * shape.reduce((a, b) => a * b, 1)) {
      corrupt(`tensor ${key}: ${end - begin} bytes for shape [${shape.join(', ')}] of ${v.dtype}`);
    }
    entries.set(key, { dtype: v.dtype as string, shape, begin, end });
  }
  return entries;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** fp32 copy of a tensor (peft saves in the training dtype: fp32 here, bf16/fp16 on a GPU host). */
function toFloat32(bytes: Buffer, entry: SafetensorsEntry): Float32Array {
  const raw = bytes.subarray(entry.begin, entry.end);
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  if (entry.dtype === 'F32') {
    new Uint8Array(out.buffer).set(raw); // copy: the range need not be 4-byte aligned
  } else if (entry.dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = raw.readUInt16LE(2 * i) << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(raw.readUInt16LE(2 * i));
  }
  return out;
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The LoRA feeds for the graphs, keyed by graph input name: the adapter's tensors, or zeros for
 * version 0 (adapter null), which makes every graph compute the base model exactly.
 */
export function loadLoraFeeds(adapter: AdapterRef | null, specs: readonly LoraInputSpec[]): Map<string, Float32Array> {
  const feeds = new Map<string, Float32Array>();
  if (adapter === null) {
    for (const spec of specs) feeds.set(spec.name, new Float32Array(spec.shape.reduce((a, b) => a * b, 1)));
    return feeds;
  }
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(adapter.path);
  } catch (e) {
    throw new AuditRuntimeError('ADAPTER_NOT_FOUND', `cannot read adapter ${adapter.path}: ${(e as Error).message}`, 'adapter.path');
  }
  const actual = sha256Hex(bytes);
  if (actual !== adapter.sha256.toLowerCase()) {
    throw new AuditRuntimeError('ADAPTER_SHA_MISMATCH',
      `adapter ${adapter.path} has sha256 ${actual}, the version record says ${adapter.sha256}`, 'adapter.sha256');
  }
  const entries = parseSafetensorsHeader(bytes, adapter.path);
  for (const spec of specs) {
    const entry = entries.get(spec.adapterKey);
    if (!entry) {
      throw new AuditRuntimeError('ADAPTER_KEY_MISSING', `adapter ${adapter.path} has no tensor ${spec.adapterKey} (graph input ${spec.name})`);
    }
    if (entry.shape.length !== spec.shape.length || entry.shape.some((d, i) => d !== spec.shape[i])) {
      throw new AuditRuntimeError('ADAPTER_SHAPE_MISMATCH',
        `adapter tensor ${spec.adapterKey} has shape [${entry.shape.join(', ')}], the graphs need [${spec.shape.join(', ')}]`);
    }
    if (!(entry.dtype in DTYPE_BYTES)) {
      throw new AuditRuntimeError('ADAPTER_SHAPE_MISMATCH', `adapter tensor ${spec.adapterKey} is ${entry.dtype}; expected F32, F16 or BF16`);
    }
    const values = toFloat32(bytes, entry);
    if (!values.every(Number.isFinite)) {
      throw new AuditRuntimeError('ADAPTER_CORRUPT', `adapter tensor ${spec.adapterKey} contains NaN or infinite values`);
    }
    feeds.set(spec.name, values);
  }
  return feeds;
}
