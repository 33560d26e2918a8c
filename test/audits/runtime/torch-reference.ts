// The Python side of the runtime's parity test and of `npm run bench:audit`: the tiny LLaVA's ONNX
// export (export_onnx), random non-zero peft adapters, and torch scores of the same items, all by
// running the worker's own modules with LETHE_PYTHON.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AdapterRef, OptionLetter } from '../../../src/audits/domain/eval-item';
import { RuntimeEvalItem } from '../../../src/audits/runtime';

export const REPO_ROOT = (() => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'gpu-worker', 'lethe_worker'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`repository root not found above ${__dirname}`);
  }
})();

/** The LoRA config of the parity test and benchmark: both graphs carry LoRA inputs. */
export const TEST_LORA = { rank: 8, alpha: 16, dropout: 0, targets: 'projector+llm' };

export interface TinyModel {
  root: string;
  modelDir: string;
  datasetDir: string;
  python: string;
}

export function tinyModel(): TinyModel {
  const root = process.env.LETHE_TINY_MODEL_ROOT;
  const python = process.env.LETHE_PYTHON;
  if (!root || !python) throw new Error('LETHE_TINY_MODEL_ROOT and LETHE_PYTHON must be set (npm test sets them)');
  return { root, modelDir: path.join(root, 'model'), datasetDir: path.join(root, 'dataset'), python };
}

/** Runs `python -m module args` in gpu-worker/ and parses the JSON object on the last stdout line. */
export function runWorkerModule<T>(python: string, module: string, args: string[]): T {
  const r = spawnSync(python, ['-m', module, ...args], {
    cwd: path.join(REPO_ROOT, 'gpu-worker'),
    env: { ...process.env, PYTHONPATH: [path.join(REPO_ROOT, 'gpu-worker'), path.join(REPO_ROOT, 'bench', 'python')].join(path.delimiter), HF_HUB_OFFLINE: '1', OMP_NUM_THREADS: '2' },
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`python -m ${module} failed (${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

/**
 * The tiny model's export for `lora` (reused when complete: the export is keyed on model id + LoRA), by default under
 * the repository's .data; `where` puts it where a service looks for a lineage's export (its base model id, its artifacts).
 */
export function ensureTinyExport(model: TinyModel, lora: object = TEST_LORA,
  where = { id: `tiny-llava@${path.basename(model.root)}`, outputRoot: path.join(REPO_ROOT, '.data', 'onnx-exports') }): string {
  const out = runWorkerModule<{ dir: string }>(model.python, 'lethe_worker.export_onnx', [
    '--model', model.modelDir,
    '--id', where.id,
    '--lora', JSON.stringify(lora),
    '--out', where.outputRoot,
  ]);
  return out.dir;
}

/** A peft adapter with non-zero random A and B (peft's own save_pretrained layout). */
export function writeRandomAdapter(model: TinyModel, outDir: string, seed: number, std: number, lora = TEST_LORA): AdapterRef {
  return runWorkerModule<AdapterRef>(model.python, 'lethe_bench.audit_torch', [
    'random-adapter', '--model', model.modelDir, '--lora', JSON.stringify(lora), '--out', outDir,
    '--seed', String(seed), '--std', String(std),
  ]);
}

export interface TorchScores {
  questions: number;
  seconds: number;
  qps: number;
  results: { id: string; logits: Record<OptionLetter, number>; predicted: OptionLetter }[];
}

/** Torch (lethe_worker.scoring.score_mc) scores of exactly these items. */
export function torchScores(model: TinyModel, items: RuntimeEvalItem[], adapter: AdapterRef | null, workDir: string,
  batchSize = 16): TorchScores {
  const itemsFile = path.join(workDir, 'items.json');
  fs.writeFileSync(itemsFile, JSON.stringify(items));
  return runWorkerModule<TorchScores>(model.python, 'lethe_bench.audit_torch', [
    'score', '--model', model.modelDir, '--items', itemsFile, '--batch-size', String(batchSize),
    ...(adapter ? ['--adapter', adapter.path] : []),
  ]);
}
