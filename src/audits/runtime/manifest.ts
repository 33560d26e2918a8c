// manifest.json of an ONNX export (contracts/onnx-manifest.schema.json): read, validate, and check
// it against the graphs themselves, so a stale or foreign manifest can never feed wrong tensors.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { OptionLetter } from '../domain/eval-item';
import { contractValidator, describeSchemaError } from './contract-schemas';
import { AuditRuntimeError } from './runtime-error';

export type GraphName = 'vision' | 'embed' | 'decoder';

export interface LoraInputSpec {
  name: string;
  graph: 'vision' | 'decoder';
  module: string;
  kind: 'A' | 'B';
  shape: number[];
  adapterKey: string;
}

export interface OnnxManifest {
  baseModelId: string;
  lora: { rank: number; alpha: number; dropout: number; targets: string | string[] };
  graphs: Record<GraphName, string>;
  numImageTokens: number;
  imageSize: number;
  hiddenSize: number;
  vocabSize: number;
  imageTokenId: number;
  padTokenId: number;
  optionTokenIds: Record<OptionLetter, number>;
  loraInputs: LoraInputSpec[];
}

export const MANIFEST_FILE = 'manifest.json';

export function readManifest(exportDir: string): OnnxManifest {
  const file = path.join(exportDir, MANIFEST_FILE);
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new AuditRuntimeError('MANIFEST_INVALID', `cannot read ${file}: ${(e as Error).message}`);
  }
  const validate = contractValidator<OnnxManifest>('onnx-manifest.schema.json');
  if (!validate(data)) {
    const { field, message } = describeSchemaError(validate.errors);
    throw new AuditRuntimeError('MANIFEST_INVALID', `${file} does not match onnx-manifest.schema.json: ${message}`, field);
  }
  const tokenIds: [string, number][] = [
    ['imageTokenId', data.imageTokenId],
    ['padTokenId', data.padTokenId],
    ...Object.entries(data.optionTokenIds).map(([letter, id]): [string, number] => [`optionTokenIds.${letter}`, id]),
  ];
  for (const [field, id] of tokenIds) {
    if (id < 0 || id >= data.vocabSize) {
      throw new AuditRuntimeError('MANIFEST_INVALID', `${file}: token id ${id} is outside the vocabulary (${data.vocabSize})`, field);
    }
  }
  for (const graph of Object.values(data.graphs)) {
    if (!fs.existsSync(path.join(exportDir, graph))) {
      throw new AuditRuntimeError('MANIFEST_INVALID', `${file} names graph ${graph}, which is not in ${exportDir}`, 'graphs');
    }
  }
  return data;
}

interface ExpectedValue {
  name: string;
  type: 'float32' | 'int64';
  /** Fixed dimensions only (LoRA tensors); null = symbolic axes, only the rank is checked. */
  shape: number[] | null;
  rank: number;
}

/** What each graph must look like for this manifest, in input order. */
function expectedInputs(manifest: OnnxManifest, graph: GraphName): ExpectedValue[] {
  const lora = (g: 'vision' | 'decoder'): ExpectedValue[] =>
    manifest.loraInputs.filter((l) => l.graph === g).map((l) => ({ name: l.name, type: 'float32', shape: l.shape, rank: 2 }));
  if (graph === 'vision') return [{ name: 'pixel_values', type: 'float32', shape: null, rank: 4 }, ...lora('vision')];
  if (graph === 'embed') return [{ name: 'input_ids', type: 'int64', shape: null, rank: 2 }];
  return [
    { name: 'inputs_embeds', type: 'float32', shape: null, rank: 3 },
    { name: 'attention_mask', type: 'int64', shape: null, rank: 2 },
    ...lora('decoder'),
  ];
}

const EXPECTED_OUTPUT: Record<GraphName, { name: string; rank: number }> = {
  vision: { name: 'image_features', rank: 3 },
  embed: { name: 'inputs_embeds', rank: 3 },
  decoder: { name: 'logits', rank: 2 },
};

/** Throws MANIFEST_GRAPH_MISMATCH naming the first input or output that differs. */
export function checkGraphAgainstManifest(manifest: OnnxManifest, graph: GraphName, session: InferenceSession): void {
  const where = `${graph} graph (${manifest.graphs[graph]})`;
  const mismatch = (message: string): never => {
    throw new AuditRuntimeError('MANIFEST_GRAPH_MISMATCH', `${where}: ${message}`, `graphs.${graph}`);
  };
  const expected = expectedInputs(manifest, graph);
  const actual = session.inputMetadata;
  const names = actual.map((m) => m.name);
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i].name)) {
    const i = expected.findIndex((e, k) => names[k] !== e.name);
    const at = i < 0 ? expected.length : i;
    mismatch(`input ${at} is ${names[at] ?? '(none)'}, manifest expects ${expected[at]?.name ?? '(none)'} ` +
      `(${names.length} inputs in the graph, ${expected.length} expected)`);
  }
  actual.forEach((meta, i) => {
    const want = expected[i];
    if (!meta.isTensor) mismatch(`input ${meta.name} is not a tensor`);
    if (meta.isTensor && meta.type !== want.type) mismatch(`input ${meta.name} is ${meta.type}, expected ${want.type}`);
    const dims = meta.isTensor ? meta.shape : [];
    if (dims.length !== want.rank) mismatch(`input ${meta.name} has rank ${dims.length}, expected ${want.rank}`);
    if (want.shape && dims.some((d, k) => d !== want.shape![k])) {
      mismatch(`input ${meta.name} has shape [${dims.join(', ')}], manifest says [${want.shape.join(', ')}]`);
    }
  });
  const out = EXPECTED_OUTPUT[graph];
  const outputs = session.outputMetadata;
  if (outputs.length !== 1 || outputs[0].name !== out.name) {
    mismatch(`outputs are [${outputs.map((o) => o.name).join(', ')}], expected [${out.name}]`);
  }
  const outMeta = outputs[0];
  if (!outMeta.isTensor || outMeta.type !== 'float32' || outMeta.shape.length !== out.rank) {
    mismatch(`output ${out.name} must be a float32 tensor of rank ${out.rank}`);
  }
  const lastDim = outMeta.isTensor ? outMeta.shape[out.rank - 1] : undefined;
  const wantLast = graph === 'decoder' ? manifest.vocabSize : manifest.hiddenSize;
  if (typeof lastDim === 'number' && lastDim !== wantLast) {
    mismatch(`output ${out.name} ends in ${lastDim}, manifest says ${wantLast}`);
  }
}
