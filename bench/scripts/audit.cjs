// `npm run bench:audit [-- --json] [-- --batch-size N] [-- --limit N] [-- --model-root DIR]`
// Scores the same eval questions of the tiny LLaVA, with the same non-zero LoRA adapter, through
// onnxruntime-node (src/audits/runtime, the audit's scorer) and through torch in the worker
// (lethe_worker.scoring.score_mc); prints a table, then ONE JSON object on the last line:
// {"questions", "ort_qps", "torch_qps", "ratio", "max_abs_logit_diff", "prediction_agreement"}.
// Timing covers scoring only (model/session loading excluded on both sides); both batch.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const b = require('../../scripts/lib/bootstrap.cjs');

function parseArgs(argv) {
  const value = (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const root = argv.indexOf('--model-root');
  return {
    json: argv.includes('--json'),
    batchSize: value('--batch-size', 32),
    limit: value('--limit', 0),
    // A directory with model/ (llava-hf) and dataset/ (lethe/ view); default: the tiny LLaVA, built if missing.
    modelRoot: root >= 0 ? path.resolve(argv[root + 1]) : null,
  };
}

function row(cells, widths) {
  return cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  b.ensureNodeModules();
  const py = b.ensurePythonEnv();
  const tinyRoot = args.modelRoot ?? b.ensureTinyModel(py);
  b.buildTypeScript();
  process.env.LETHE_TINY_MODEL_ROOT = tinyRoot;
  process.env.LETHE_PYTHON = py.python;

  const runtime = require(path.join(b.ROOT, 'dist', 'src', 'audits', 'runtime'));
  const reference = require(path.join(b.ROOT, 'dist', 'test', 'audits', 'runtime', 'torch-reference.js'));
  const model = reference.tinyModel();
  b.log('exporting the tiny LLaVA to ONNX (reused when already exported)…');
  const exportDir = reference.ensureTinyExport(model);
  const workDir = path.join(b.ROOT, 'bench-out', 'audit');
  fs.mkdirSync(workDir, { recursive: true });
  const adapter = reference.writeRandomAdapter(model, path.join(workDir, 'adapter'), 11, 0.05);
  let items = runtime.loadEvalItems(model.datasetDir);
  if (args.limit > 0) items = items.slice(0, args.limit);

  b.log(`scoring ${items.length} questions with onnxruntime-node (batch ${args.batchSize})…`);
  const scorer = await runtime.openScorer({ exportDir, modelDir: model.modelDir, adapter, batchSize: args.batchSize });
  const started = process.hrtime.bigint();
  const ort = await scorer.score(items);
  const ortSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  await scorer.close();

  b.log(`scoring the same questions with torch (batch ${args.batchSize})…`);
  const torch = reference.torchScores(model, items, adapter, workDir, args.batchSize);

  const groups = new Map();
  let maxDiff = 0;
  let agree = 0;
  items.forEach((item, i) => {
    const o = ort[i];
    const t = torch.results[i];
    if (t.id !== o.id) throw new Error(`torch result ${i} is ${t.id}, expected ${o.id}`);
    const diff = Math.max(...['A', 'B', 'C', 'D'].map((l) => Math.abs(o.logits[l] - t.logits[l])));
    maxDiff = Math.max(maxDiff, diff);
    agree += o.predicted === t.predicted ? 1 : 0;
    const key = `${item.split}/${item.modality}`;
    const g = groups.get(key) ?? { n: 0, ortCorrect: 0, torchCorrect: 0, agree: 0, maxDiff: 0 };
    g.n += 1;
    g.ortCorrect += o.correct ? 1 : 0;
    g.torchCorrect += t.predicted === item.answer ? 1 : 0;
    g.agree += o.predicted === t.predicted ? 1 : 0;
    g.maxDiff = Math.max(g.maxDiff, diff);
    groups.set(key, g);
  });

  const widths = [22, 6, 9, 11, 10, 12];
  const lines = [row(['split/modality', 'n', 'ort acc', 'torch acc', 'agreement', 'max |dlogit|'], widths)];
  for (const [key, g] of [...groups.entries()].sort()) {
    lines.push(row([key, g.n, (g.ortCorrect / g.n).toFixed(3), (g.torchCorrect / g.n).toFixed(3), (g.agree / g.n).toFixed(3),
      g.maxDiff.toExponential(2)], widths));
  }
  const ortQps = items.length / ortSeconds;
  lines.push('');
  lines.push(`onnxruntime-node: ${ortSeconds.toFixed(2)} s, ${ortQps.toFixed(1)} questions/s`);
  lines.push(`torch:            ${torch.seconds.toFixed(2)} s, ${torch.qps.toFixed(1)} questions/s`);
  lines.push(`adapter: random peft LoRA ${JSON.stringify(reference.TEST_LORA)} (sha256 ${adapter.sha256.slice(0, 12)}…), batch ${args.batchSize}`);
  console.log(lines.join('\n'));
  const summary = {
    questions: items.length,
    ort_qps: Number(ortQps.toFixed(2)),
    torch_qps: Number(torch.qps.toFixed(2)),
    ratio: Number((ortQps / torch.qps).toFixed(3)),
    max_abs_logit_diff: maxDiff,
    prediction_agreement: agree / items.length,
  };
  if (!args.json) console.log('');
  console.log(JSON.stringify(summary));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
