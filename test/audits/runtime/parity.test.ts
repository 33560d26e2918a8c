// Parity of the onnxruntime-node scorer with torch on the tiny LLaVA, with a non-trivial adapter:
// identical predictions on every eval question and max |logit difference| <= 1e-3.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AdapterRef, OPTION_LETTERS, ScoredItem } from '../../../src/audits/domain/eval-item';
import { loadEvalItems, openScorer, RuntimeEvalItem } from '../../../src/audits/runtime';
import { ensureTinyExport, REPO_ROOT, tinyModel, TinyModel, torchScores, TorchScores, writeRandomAdapter } from './torch-reference';

const MAX_ABS_LOGIT_DIFF = 1e-3;

function maxAbsDiff(ort: ScoredItem[], torch: TorchScores): number {
  let worst = 0;
  ort.forEach((scored, i) => {
    for (const letter of OPTION_LETTERS) worst = Math.max(worst, Math.abs(scored.logits[letter] - torch.results[i].logits[letter]));
  });
  return worst;
}

describe('OnnxLlavaScorer parity with torch on the tiny LLaVA', () => {
  let model: TinyModel;
  let exportDir: string;
  let workDir: string;
  let adapter: AdapterRef;
  let items: RuntimeEvalItem[];

  before(() => {
    model = tinyModel();
    exportDir = ensureTinyExport(model);
    workDir = fs.mkdtempSync(path.join(REPO_ROOT, '.data', 'parity-'));
    adapter = writeRandomAdapter(model, path.join(workDir, 'adapter'), 7, 0.05);
    items = loadEvalItems(model.datasetDir);
  });
  after(() => fs.rmSync(workDir, { recursive: true, force: true }));

  it('scores every eval question like torch with a non-zero adapter', async () => {
    const scorer = await openScorer({ exportDir, modelDir: model.modelDir, adapter });
    const ort = await scorer.score(items).finally(() => scorer.close());
    const torch = torchScores(model, items, adapter, workDir, 64);

    assert.equal(ort.length, items.length);
    assert.deepEqual(ort.map((s) => s.id), torch.results.map((r) => r.id));
    const disagreements = ort.filter((s, i) => s.predicted !== torch.results[i].predicted).map((s) => s.id);
    assert.deepEqual(disagreements, [], 'predictions differ from torch');
    const diff = maxAbsDiff(ort, torch);
    assert.ok(diff <= MAX_ABS_LOGIT_DIFF, `max |logit difference| ${diff} > ${MAX_ABS_LOGIT_DIFF}`);
    for (const [i, s] of ort.entries()) assert.equal(s.correct, s.predicted === items[i].answer);
    assert.ok(items.some((i) => i.modality === 'multimodal') && items.some((i) => i.modality === 'text'));
  });

  it('the adapter is non-trivial and version 0 (zero LoRA feeds) is the base model in torch', async () => {
    const sample = items.filter((_, i) => i % 10 === 0);
    const base = await openScorer({ exportDir, modelDir: model.modelDir, adapter: null });
    const adapted = await openScorer({ exportDir, modelDir: model.modelDir, adapter });
    const baseScores = await base.score(sample).finally(() => base.close());
    const adaptedScores = await adapted.score(sample).finally(() => adapted.close());
    const torchBase = torchScores(model, sample, null, workDir);

    assert.ok(maxAbsDiff(baseScores, torchBase) <= MAX_ABS_LOGIT_DIFF);
    assert.ok(baseScores.every((s, i) => s.predicted === torchBase.results[i].predicted));
    const shift = maxAbsDiff(adaptedScores, { ...torchBase, results: baseScores });
    assert.ok(shift > 0.1, `the random adapter moves logits by only ${shift}: parity would not test the LoRA inputs`);
  });

  it('batching (left padding) does not change the scores', async () => {
    const sample = items.filter((_, i) => i % 7 === 0);
    const scorer = await openScorer({ exportDir, modelDir: model.modelDir, adapter });
    try {
      const batched = await scorer.score(sample, { batchSize: 32 });
      const single = await scorer.score(sample, { batchSize: 1 });
      assert.deepEqual(batched.map((s) => s.predicted), single.map((s) => s.predicted));
      assert.ok(maxAbsDiff(batched, { questions: 0, seconds: 0, qps: 0, results: single }) <= 1e-4);
    } finally {
      await scorer.close();
    }
  });
});
