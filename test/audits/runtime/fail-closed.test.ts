// The scorer refuses to produce numbers from a wrong artifact: each failure is a typed error
// (an audit then fails closed). Uses the tiny LLaVA's real export and graphs.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditRuntimeError, loadEvalItems, OnnxManifest, openScorer, OpenScorerOptions, RuntimeEvalItem } from '../../../src/audits/runtime';
import { f32, safetensorsBytes, writeAdapter } from './safetensors-writer';
import { ensureTinyExport, REPO_ROOT, tinyModel, TinyModel, writeRandomAdapter } from './torch-reference';

async function rejectsWith(promise: Promise<unknown>, reason: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof AuditRuntimeError, `expected AuditRuntimeError ${reason}, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('OnnxLlavaScorer fails closed', () => {
  let model: TinyModel;
  let exportDir: string;
  let workDir: string;
  let manifest: OnnxManifest;
  let items: RuntimeEvalItem[];
  let options: OpenScorerOptions;

  before(() => {
    model = tinyModel();
    exportDir = ensureTinyExport(model);
    manifest = JSON.parse(fs.readFileSync(path.join(exportDir, 'manifest.json'), 'utf8'));
    workDir = fs.mkdtempSync(path.join(REPO_ROOT, '.data', 'fail-closed-'));
    items = loadEvalItems(model.datasetDir);
    options = { exportDir, modelDir: model.modelDir, adapter: null };
  });
  after(() => fs.rmSync(workDir, { recursive: true, force: true }));

  /** An export directory with the real graphs (linked) and an edited manifest. */
  function exportWithManifest(name: string, edit: (m: OnnxManifest) => unknown): string {
    const dir = path.join(workDir, name);
    fs.mkdirSync(dir);
    for (const file of fs.readdirSync(exportDir)) {
      if (file !== 'manifest.json') fs.symlinkSync(path.join(exportDir, file), path.join(dir, file));
    }
    const copy = JSON.parse(JSON.stringify(manifest));
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(edit(copy) ?? copy));
    return dir;
  }

  it('on an adapter whose sha256 differs from the version record', async () => {
    const adapter = writeRandomAdapter(model, path.join(workDir, 'adapter'), 3, 0.05);
    await rejectsWith(openScorer({ ...options, adapter: { ...adapter, sha256: 'f'.repeat(64) } }), 'ADAPTER_SHA_MISMATCH', /version record/);
  });

  it('on a corrupt adapter file, even with its own sha256', async () => {
    const real = fs.readFileSync(writeRandomAdapter(model, path.join(workDir, 'adapter2'), 4, 0.05).path);
    const truncated = writeAdapter(path.join(workDir, 'truncated.safetensors'), real.subarray(0, real.length - 100));
    await rejectsWith(openScorer({ ...options, adapter: truncated }), 'ADAPTER_CORRUPT');
  });

  it('on an adapter that lacks a LoRA tensor or has one of another shape', async () => {
    const [first, second] = manifest.loraInputs;
    const tensor = (shape: number[]) => f32(new Array(shape[0] * shape[1]).fill(0.01), shape);
    const missing = writeAdapter(path.join(workDir, 'missing.safetensors'), safetensorsBytes({ [first.adapterKey]: tensor(first.shape) }));
    await rejectsWith(openScorer({ ...options, adapter: missing }), 'ADAPTER_KEY_MISSING', new RegExp(second.adapterKey.replace(/\./g, '\\.')));
    const all = Object.fromEntries(manifest.loraInputs.map((s) => [s.adapterKey, tensor(s.shape)]));
    all[first.adapterKey] = tensor([first.shape[0] + 1, first.shape[1]]);
    const wrong = writeAdapter(path.join(workDir, 'shape.safetensors'), safetensorsBytes(all));
    await rejectsWith(openScorer({ ...options, adapter: wrong }), 'ADAPTER_SHAPE_MISMATCH');
  });

  it('on a manifest that does not match the graphs', async () => {
    const dropped = exportWithManifest('dropped', (m) => { m.loraInputs.pop(); });
    await rejectsWith(openScorer({ ...options, exportDir: dropped }), 'MANIFEST_GRAPH_MISMATCH', /decoder graph/);
    const reshaped = exportWithManifest('reshaped', (m) => { m.loraInputs[0].shape = [m.loraInputs[0].shape[0] * 2, m.loraInputs[0].shape[1]]; });
    await rejectsWith(openScorer({ ...options, exportDir: reshaped }), 'MANIFEST_GRAPH_MISMATCH', /shape/);
    const renamed = exportWithManifest('renamed', (m) => { m.loraInputs[m.loraInputs.length - 1].name += '.x'; });
    await rejectsWith(openScorer({ ...options, exportDir: renamed }), 'MANIFEST_GRAPH_MISMATCH');
    const vocab = exportWithManifest('vocab', (m) => { m.vocabSize += 1; });
    await rejectsWith(openScorer({ ...options, exportDir: vocab }), 'MANIFEST_GRAPH_MISMATCH', /logits/);
  });

  it('on a manifest that breaks the contract', async () => {
    const invalid = exportWithManifest('invalid', (m) => { delete (m as Partial<OnnxManifest>).numImageTokens; });
    await rejectsWith(openScorer({ ...options, exportDir: invalid }), 'MANIFEST_INVALID', /numImageTokens/);
    await rejectsWith(openScorer({ ...options, exportDir: path.join(workDir, 'no-export') }), 'MANIFEST_INVALID');
    const option = exportWithManifest('option', (m) => { m.optionTokenIds.D = m.vocabSize; });
    await rejectsWith(openScorer({ ...options, exportDir: option }), 'MANIFEST_INVALID', /outside the vocabulary/);
  });

  it('when the vision output does not fill the prompt\'s image positions', async () => {
    const extraToken = exportWithManifest('image-tokens', (m) => { m.numImageTokens += 1; }); // what the JS processor can do
    const scorer = await openScorer({ ...options, exportDir: extraToken });
    try {
      await rejectsWith(scorer.score(items.filter((i) => i.modality === 'multimodal').slice(0, 2)), 'IMAGE_TOKEN_MISMATCH');
    } finally {
      await scorer.close();
    }
  });

  it('on an empty eval set and on a multimodal item without an image', async () => {
    const scorer = await openScorer(options);
    try {
      await rejectsWith(scorer.score([]), 'EVAL_SET_EMPTY');
      const multimodal = items.find((i) => i.modality === 'multimodal')!;
      await rejectsWith(scorer.score([{ ...multimodal, imagePath: path.join(workDir, 'absent.png') }]), 'IMAGE_NOT_FOUND');
    } finally {
      await scorer.close();
    }
  });

  it('on a model directory without tokenizer files', async () => {
    await rejectsWith(openScorer({ ...options, modelDir: workDir }), 'MODEL_DIR_INVALID', /tokenizer\.json/);
  });

  it('runs on CUDA when configured, or falls back to CPU with one warning when it is unavailable', async () => {
    const warnings: string[] = [];
    const scorer = await openScorer({ ...options, executionProvider: 'cuda', log: (m) => warnings.push(m) });
    try {
      if (scorer.executionProvider === 'cuda') {
        assert.deepEqual(warnings, []);
      } else {
        assert.equal(scorer.executionProvider, 'cpu');
        assert.equal(warnings.length, 1);
        assert.match(warnings[0], /CUDA execution provider unavailable.*falling back to CPU/);
      }
      const scored = await scorer.score(items.slice(0, 3));
      assert.equal(scored.length, 3);
    } finally {
      await scorer.close();
    }
  });
});
