// What the forgetting evidence adds to an audit's time on the tiny LLaVA:
//   node dist/bench/audit/overhead.js [rounds]   (LETHE_TINY_MODEL_ROOT and LETHE_PYTHON set)
// Runs the audit activity (version 0 + a candidate with a random adapter, fresh baseline cache) on the tiny
// world without never-seen people and with 50 of them (10 questions each, like the others), alternately,
// and prints one JSON line: seconds per audit of each and the relative overhead. The 50 are copies of the
// first 50 fictional people's questions under new ids (the same images and lengths: the scoring cost of real
// ones), so the same world serves both arms.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRuntimeAuditActivities } from '../../src/audits/application/runtime-audit-activities';
import { AuditInput } from '../../src/audits/domain/audit-activity';
import { ensureTinyExport, REPO_ROOT, tinyModel, writeRandomAdapter } from '../../test/audits/runtime/torch-reference';

const NEVER_SEEN_PEOPLE = 50;

interface Line {
  subjectId: string | null;
  split: string;
  id: string;
}

function readLines(file: string): Line[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Line);
}

/** A lethe/ view linking the tiny world's images and train files, with the given eval lines and subjects. */
function writeDataset(dir: string, source: string, evalLines: Record<string, Line[]>, subjects: unknown): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'lethe', 'eval'), { recursive: true });
  for (const entry of fs.readdirSync(source)) {
    if (entry !== 'eval' && entry !== 'subjects.json') fs.symlinkSync(path.join(source, entry), path.join(dir, 'lethe', entry));
  }
  fs.writeFileSync(path.join(dir, 'lethe', 'subjects.json'), JSON.stringify(subjects));
  for (const [file, lines] of Object.entries(evalLines)) fs.writeFileSync(path.join(dir, 'lethe', 'eval', file), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return dir;
}

function datasets(datasetDir: string, workDir: string): { without: string; with: string } {
  const lethe = path.join(datasetDir, 'lethe');
  const doc = JSON.parse(fs.readFileSync(path.join(lethe, 'subjects.json'), 'utf8')) as { subjects: Array<{ id: string; knowledge: string }> };
  const files = Object.fromEntries(fs.readdirSync(path.join(lethe, 'eval')).filter((f) => f.endsWith('.jsonl')).map((f) => [f, readLines(path.join(lethe, 'eval', f))]));
  const withoutNeverSeen = Object.fromEntries(Object.entries(files).map(([f, lines]) => [f, lines.filter((l) => l.split !== 'never_seen')]));
  const without = writeDataset(path.join(workDir, 'without'), lethe, withoutNeverSeen, { ...doc, subjects: doc.subjects.filter((s) => s.knowledge !== 'NEVER_SEEN') });
  if (doc.subjects.some((s) => s.knowledge === 'NEVER_SEEN')) return { without, with: datasetDir };
  const copied = doc.subjects.filter((s) => s.knowledge === 'FINETUNED').slice(0, NEVER_SEEN_PEOPLE);
  const newId = (id: string) => `never-seen-${id}`;
  const people = Object.values(files).flat().filter((l) => copied.some((s) => s.id === l.subjectId));
  const neverSeen = people.map((l) => ({ ...l, id: `never-seen-${l.id}`, split: 'never_seen', subjectId: newId(l.subjectId!) }));
  const subjects = { ...doc, subjects: [...doc.subjects, ...copied.map((s) => ({ ...s, id: newId(s.id), knowledge: 'NEVER_SEEN' }))] };
  return { without, with: writeDataset(path.join(workDir, 'with'), lethe, { ...files, 'never_seen.jsonl': neverSeen }, subjects) };
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 2);
  const model = tinyModel();
  const exportDir = ensureTinyExport(model);
  const workDir = path.join(REPO_ROOT, '.data', 'audit-overhead');
  fs.mkdirSync(workDir, { recursive: true });
  const adapter = writeRandomAdapter(model, path.join(workDir, 'adapter'), 11, 0.05);
  const sets = datasets(model.datasetDir, workDir);
  const input = (datasetDir: string): AuditInput => ({
    lineage: 'overhead', versionNumber: 1, exportDir, modelDir: model.modelDir, datasetDir, adapter,
    forgetSubjectIds: ['p001'], cumulativeForgetSubjectIds: [], baseline: null, parentMetrics: null, gatePolicy: {}, attempt: 1,
  });
  const seconds: Record<'without' | 'with', number[]> = { without: [], with: [] };
  const questions: Record<'without' | 'with', number> = { without: 0, with: 0 };
  for (let round = 0; round < rounds; round++) {
    for (const kind of ['without', 'with'] as const) {
      const activities = createRuntimeAuditActivities({ log: () => {} }); // a fresh baseline cache: version 0 is scored too
      const started = process.hrtime.bigint();
      const out = await activities.audit(input(sets[kind]));
      seconds[kind].push(Number(process.hrtime.bigint() - started) / 1e9);
      if (out.auditError) throw new Error(`${kind}: ${out.auditError.message}`);
      questions[kind] = out.metrics!.scoredQuestions;
      process.stderr.write(`${kind}: ${seconds[kind].at(-1)!.toFixed(1)} s, ${questions[kind]} questions, decision ${out.decision}\n`);
    }
  }
  const best = (xs: number[]) => Math.min(...xs);
  console.log(JSON.stringify({
    questions,
    seconds_per_audit: { without: best(seconds.without), with: best(seconds.with) },
    overhead: Number((best(seconds.with) / best(seconds.without) - 1).toFixed(3)),
    rounds,
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
