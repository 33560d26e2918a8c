// `npm run pulse -- <finetuned | pretrained | sustainability | all> [...]` (see USAGE in args.ts).
// Progress goes to stderr; with --json the last stdout line is one JSON object.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IncludedReport, parsePulseArgs, PulseArgs, PulseArgsError, Strategy, USAGE } from './args';
import { PulseHarness, RunResult } from './harness';
import { aggregate, jsonLine, SettingReport } from './report';
import { chromiumMissing, writeOutputs } from './output';
import { WorkerClient } from './worker-client';
import { modelFingerprint, trainingCodeFingerprint } from './fingerprint';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function resolveModelRoot(args: PulseArgs): string {
  const root = args.modelRoot ?? process.env.LETHE_TINY_MODEL_ROOT;
  if (!root) throw new PulseArgsError('--model', 'not given and LETHE_TINY_MODEL_ROOT is not set (npm run pulse sets it)');
  for (const sub of ['model', 'dataset']) {
    if (!fs.existsSync(path.join(root, sub))) throw new PulseArgsError('--model', `${root} has no ${sub}/ directory (expected model/ and dataset/)`);
  }
  return path.resolve(root);
}

interface SavedReport {
  command: string;
  wallSeconds: number;
  reports: SettingReport[];
  runs: RunResult[];
}

function readSaved(file: string): SavedReport {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as SavedReport;
  } catch (e) {
    throw new PulseArgsError('--from/--include', `cannot read ${file}: ${(e as Error).message}`);
  }
}

/** The --include files' reports, each with its label. */
function includedReports(include: IncludedReport[]): SettingReport[] {
  return include.flatMap(({ file, label }) => savedReports(readSaved(file)).map((r) => (label ? { ...r, label } : r)));
}

/** A saved file's reports, re-aggregated from its runs so goal checks and spreads follow the current code. */
function savedReports(saved: SavedReport): SettingReport[] {
  return saved.reports.map((r) => {
    const runs = saved.runs.filter((x) => x.setting === r.setting && x.method === r.method && x.strategy === r.strategy && x.targets === r.targets);
    return runs.length > 0 ? aggregate(runs) : r;
  });
}

function savePartial(outDir: string, command: string, started: number, reports: SettingReport[], runs: RunResult[]): void {
  fs.mkdirSync(outDir, { recursive: true });
  const saved: SavedReport = { command, wallSeconds: (Date.now() - started) / 1000, reports, runs };
  fs.writeFileSync(path.join(outDir, 'report.json'), JSON.stringify(saved, null, 2));
}

/**
 * --from: the outputs of earlier runs rendered (again) as one report, e.g. settings run as
 * separate processes, or after a change of the docs layout.
 */
async function renderSaved(args: PulseArgs): Promise<number> {
  const saved = args.from.map(readSaved);
  const reports = saved.flatMap(savedReports);
  const progress = (m: string) => process.stderr.write(`[pulse] ${m}\n`);
  await writeOutputs({
    reports, runs: saved.flatMap((s) => s.runs), searched: includedReports(args.include),
    outDir: args.outDir, docsFile: args.docsFile, command: saved.map((s) => s.command).join(' ; '),
    // The saved runs were separate processes, one after another: their times add up.
    wallSeconds: saved.reduce((sum, s) => sum + s.wallSeconds, 0), progress,
  });
  if (args.json) process.stdout.write(jsonLine(reports) + '\n');
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  let args: PulseArgs;
  let root: string;
  try {
    args = parsePulseArgs(argv);
    // Checked before any work: the charts are rendered last, after what can be half an hour of training.
    const missing = args.outDir ? chromiumMissing() : null;
    if (missing) throw new PulseArgsError('--out', missing);
    if (args.from.length > 0) return await renderSaved(args);
    root = resolveModelRoot(args);
  } catch (e) {
    if (e instanceof PulseArgsError) {
      process.stderr.write(`pulse: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const python = process.env.LETHE_PYTHON;
  if (!python) {
    process.stderr.write('pulse: LETHE_PYTHON is not set (npm run pulse sets it to the project venv)\n');
    return 2;
  }
  const started = Date.now();
  const command = ['npm run pulse --', ...argv].join(' ');
  const stamp = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(5)}s`;
  const progress = (m: string) => process.stderr.write(`[pulse ${stamp()}] ${m}\n`);
  const modelDir = path.join(root, 'model');
  const datasetDir = path.join(root, 'dataset');
  const cache = process.env.LETHE_CACHE || path.join(os.homedir(), '.cache', 'lethe');
  const cacheDir = path.join(cache, 'pulse', modelFingerprint([modelDir, path.join(datasetDir, 'lethe')]));
  const workerDir = path.join(ROOT, 'gpu-worker');
  const adaptersDir = path.join(cacheDir, 'adapters', trainingCodeFingerprint(path.join(workerDir, 'lethe_worker')));
  const worker = WorkerClient.start({ python, workerDir });
  // An interrupted benchmark must not leave a training worker behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      worker.kill();
      process.exit(130);
    });
  }
  const reports: SettingReport[] = [];
  const runs: RunResult[] = [];
  try {
    const harness = new PulseHarness({ worker, modelDir, datasetDir, cacheDir, adaptersDir, progress });
    for (const setting of args.settings) {
      const strategies: (Strategy | null)[] = setting === 'sustainability' ? args.strategies : [null];
      for (const method of args.methods) {
        for (const strategy of strategies) {
          // A full sweep measures Table 3 (update targets) on the one-operation settings only: the
          // sustainability curves with a second target would double the longest part of the run.
          const targetsOf = setting === 'sustainability' && args.settings.length > 1 ? args.targets.slice(0, 1) : args.targets;
          for (const targets of targetsOf) {
            const group: RunResult[] = [];
            for (let seed = 0; seed < args.seeds; seed++) {
              const run = await harness.run({
                setting, method, strategy, targets, seed,
                rounds: args.rounds,
                maxPeople: args.maxPeople, maxSteps: args.maxSteps, hyperOverrides: args.hyperParameters,
                reforgetPasses: args.reforgetPasses,
                reforgetAboveAccuracy: args.reforgetAboveAccuracy,
              });
              progress(`${setting} ${method}${strategy ? ` ${strategy}` : ''} ${targets} seed ${seed}: done in ${run.wallSeconds.toFixed(0)}s`);
              group.push(run);
            }
            runs.push(...group);
            reports.push(aggregate(group));
            // Saved as it goes: an interrupted sweep still leaves its finished runs for --from.
            if (args.outDir) savePartial(args.outDir, command, started, reports, runs);
          }
        }
      }
    }
  } finally {
    await worker.close();
  }
  if (args.outDir || args.docsFile) {
    const searched = includedReports(args.include);
    await writeOutputs({ reports, searched, runs, outDir: args.outDir, docsFile: args.docsFile, command, wallSeconds: (Date.now() - started) / 1000, progress });
  }
  progress(`finished in ${((Date.now() - started) / 1000).toFixed(0)}s`);
  if (args.json) process.stdout.write(jsonLine(reports) + '\n');
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`pulse: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
