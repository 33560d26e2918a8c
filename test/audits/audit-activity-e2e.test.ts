// The audit activity end to end on the real tiny LLaVA: ONNX export by the Python worker, a
// non-trivial LoRA adapter, onnxruntime-node scoring, PULSE metrics and the gate.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { createRuntimeAuditActivities } from '../../src/audits/application/runtime-audit-activities';
import { AuditInput, AuditResult } from '../../src/audits/domain/audit-activity';
import { AdapterRef } from '../../src/audits/domain/eval-item';
import { selectPretrainedTargets } from '../../src/audits/domain/target-selection';

const root = process.env.LETHE_TINY_MODEL_ROOT;
const python = process.env.LETHE_PYTHON;
if (!root || !python) throw new Error('LETHE_TINY_MODEL_ROOT and LETHE_PYTHON must be set (npm test sets them)');
const modelDir = path.join(root, 'model');
const tinyDatasetDir = path.join(root, 'dataset');
const workerDir = path.resolve(__dirname, '..', '..', '..', 'gpu-worker');
// Exports and adapters are keyed by the tiny model's cache dir, so reruns reuse them.
const workDir = path.join(os.tmpdir(), 'lethe-audits-e2e', path.basename(root));
const LORA = { rank: 4, alpha: 8, dropout: 0, targets: 'projector+llm' };

function runWorker(args: string[]): Record<string, unknown> {
  const out = execFileSync(python!, ['-m', ...args], {
    cwd: workerDir,
    env: { ...process.env, PYTHONPATH: [workerDir, path.join(workerDir, '..', 'bench', 'python')].join(path.delimiter), HF_HUB_OFFLINE: '1', OMP_NUM_THREADS: '2' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

/**
 * The tiny world when it names never-seen people; else a copy of its lethe/ view (images linked) in which
 * the last ten fictional people are relabelled NEVER_SEEN with their questions moved to split never_seen.
 * The model was trained on them, so the numbers say nothing of forgetting; the copy exercises the
 * never-seen contract, the evidence and the rules on the real runtime.
 */
function datasetWithNeverSeenPeople(): string {
  const lethe = path.join(tinyDatasetDir, 'lethe');
  const doc = JSON.parse(fs.readFileSync(path.join(lethe, 'subjects.json'), 'utf8')) as { subjects: Array<{ id: string; knowledge: string }> };
  if (doc.subjects.some((s) => s.knowledge === 'NEVER_SEEN')) return tinyDatasetDir;
  const relabelled = new Set(doc.subjects.filter((s) => s.knowledge === 'FINETUNED').map((s) => s.id).sort().slice(-10));
  const dir = path.join(workDir, 'dataset-never-seen');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'lethe', 'eval'), { recursive: true });
  for (const entry of fs.readdirSync(lethe)) {
    if (entry !== 'eval' && entry !== 'subjects.json') fs.symlinkSync(path.join(lethe, entry), path.join(dir, 'lethe', entry));
  }
  for (const s of doc.subjects) if (relabelled.has(s.id)) s.knowledge = 'NEVER_SEEN';
  fs.writeFileSync(path.join(dir, 'lethe', 'subjects.json'), JSON.stringify(doc));
  const neverSeen: string[] = [];
  for (const file of fs.readdirSync(path.join(lethe, 'eval'))) {
    const kept = fs.readFileSync(path.join(lethe, 'eval', file), 'utf8').split('\n').filter((line) => line.trim()).filter((line) => {
      const item = JSON.parse(line) as { subjectId: string | null };
      if (!item.subjectId || !relabelled.has(item.subjectId)) return true;
      neverSeen.push(JSON.stringify({ ...item, split: 'never_seen' }));
      return false;
    });
    fs.writeFileSync(path.join(dir, 'lethe', 'eval', file), kept.join('\n') + '\n');
  }
  fs.writeFileSync(path.join(dir, 'lethe', 'eval', 'never_seen.jsonl'), neverSeen.join('\n') + '\n');
  return dir;
}

describe('audit activity on the tiny LLaVA (onnxruntime-node)', { timeout: 900_000 }, () => {
  let exportDir: string;
  let adapter: AdapterRef;
  let datasetDir: string;
  const activities = createRuntimeAuditActivities({ log: () => {} });
  let versionZero: AuditResult;

  const input = (overrides: Partial<AuditInput>): AuditInput => ({
    lineage: 'e2e', versionNumber: 1, exportDir, modelDir, datasetDir, adapter,
    forgetSubjectIds: [], cumulativeForgetSubjectIds: [], baseline: null, parentMetrics: null,
    gatePolicy: {}, attempt: 1, ...overrides,
  });

  before(() => {
    fs.mkdirSync(workDir, { recursive: true });
    datasetDir = datasetWithNeverSeenPeople();
    const exported = runWorker(['lethe_worker.export_onnx', '--model', modelDir, '--id', 'tiny', '--lora', JSON.stringify(LORA), '--out', path.join(workDir, 'onnx')]);
    exportDir = String(exported.dir ?? exported.exportDir);
    assert.ok(fs.existsSync(path.join(exportDir, 'manifest.json')), `export wrote a manifest in ${exportDir}`);
    // Random non-zero A and B (seeded): an adapter that really changes the model, without training.
    const made = runWorker(['lethe_bench.audit_torch', 'random-adapter', '--model', modelDir, '--lora', JSON.stringify(LORA), '--out', path.join(workDir, 'adapter'), '--seed', '7']);
    adapter = { path: String(made.path), sha256: String(made.sha256) };
  });

  it('measures version 0 and picks the best-known subject as the forget target', async () => {
    versionZero = await activities.audit(input({ versionNumber: 0, adapter: null }));
    assert.equal(versionZero.auditError, null, JSON.stringify(versionZero.auditError));
    const m = versionZero.metrics!;
    assert.ok(m.retain.multimodal.total > 0 && m.retain.text.total > 0 && m.general.overall.total > 0);
    assert.ok(Object.keys(m.general.byCategory).length > 1, 'general split by category');
    const [target] = selectPretrainedTargets(m, 1);
    assert.ok(target.accuracy > 0.35, `the base model knows its best subject (${target.subjectId}: ${target.accuracy})`);
  });

  it('never promotes the base model for a forget request: the subject is still known', async () => {
    const [target] = selectPretrainedTargets(versionZero.metrics!, 1);
    // The target is right on > 35% of its 10 questions, so >= 2 of 5 in some modality: at
    // significance 0.5 that fails the forget check (at the default 0.05 only 4 of 5 would).
    const gatePolicy = { forget: { significance: 0.5 } };
    const out = await activities.audit(input({ versionNumber: 0, adapter: null, forgetSubjectIds: [target.subjectId], gatePolicy }));
    assert.notEqual(out.decision, 'PASS');
    assert.ok(out.checks.some((c) => c.rule === 'FORGET' && !c.passed));
    assert.equal(out.metrics!.forget.multimodal.ofBaseline, 0, 'version 0 has forgotten nothing of itself');
  });

  it('audits a candidate adapter against the cached version 0 and relates every number', async () => {
    const [target] = selectPretrainedTargets(versionZero.metrics!, 1);
    const out = await activities.audit(input({ forgetSubjectIds: [target.subjectId], parentMetrics: versionZero.metrics }));
    assert.equal(out.auditError, null, JSON.stringify(out.auditError));
    const m = out.metrics!;
    for (const v of [m.forget.multimodal, m.forget.text, m.cumulativeForget.text, m.retain.multimodal, m.retain.text, m.general.overall]) {
      assert.ok(v.total > 0 && v.accuracy !== null && v.accuracy >= 0 && v.accuracy <= 1);
      assert.notEqual(v.deltaFromParent, null);
    }
    // Its runner-up share is counted from the same logits: a share of questions, for a person that was scored.
    for (const share of [m.forgottenRunnerUp!.multimodal, m.forgottenRunnerUp!.text]) assert.ok(share !== null && share >= 0 && share <= 1, `runner-up share ${share}`);
    assert.ok(['PASS', 'FAIL', 'REVIEW'].includes(out.decision));
    // Accuracy: forget and cumulative forget per modality in both prompt formats, retain per modality, general;
    // forgetting: three rules x two scopes x two modalities in both formats; the free-form probe of both scopes.
    assert.equal(out.checks.length, 11 + 24 + 2);
    // Asked without options on the generation path: the person's five text questions against 50 never-seen ones.
    const free = m.freeForm!;
    assert.deepEqual([free.forget.asked, free.reference.asked], [m.forget.text.total, 50]);
    assert.ok(out.checks.filter((c) => c.rule === 'FREE_FORM').every((c) => c.value !== null && c.pValue !== undefined));
    // The same person asked in the mllmu prompt format, against the never-seen people asked that way.
    const other = m.otherFormats!.mllmu!;
    for (const modality of ['multimodal', 'text'] as const) {
      assert.equal(other.forget[modality].total, m.forget[modality].total);
      assert.equal(other.forgetting.forget[modality].referenceN, m.forgetting!.forget[modality].referenceN);
      assert.ok(other.forgetting.forget[modality].forgetQuality !== null && other.forgetting.forget[modality].miaAuc !== null);
    }
    // Against the never-seen people on the same candidate: five questions per modality against theirs, every rule with a number.
    const evidence = m.forgetting!;
    assert.equal(evidence.missingReference, null);
    assert.ok(evidence.reference.subjects >= 10);
    for (const modality of ['multimodal', 'text'] as const) {
      const e = evidence.forget[modality];
      assert.equal(e.n, m.forget[modality].total);
      assert.equal(e.referenceN, evidence.reference.questions[modality]);
      assert.ok(e.forgetQuality!.pValue >= 0 && e.forgetQuality!.pValue <= 1 && e.forgetQuality!.method === 'exact');
      assert.ok(e.miaAuc!.auc >= 0 && e.miaAuc!.auc <= 1 && e.miaAuc!.standardError > 0);
      assert.ok(Math.abs(e.rankShares!.reduce((a, v) => a + v, 0) - 1) < 1e-9);
    }
    assert.ok(out.checks.filter((c) => c.rule === 'MIA_AUC').every((c) => c.value !== null && c.interval !== undefined));
    // Never-seen people are the reference, never counted as retained.
    const retained = m.retain.text.total / 5;
    assert.equal(retained + m.neverSeenSubjectIds!.length + 1, Object.keys(m.perSubject).length);
    assert.equal(out.adapterSha256, adapter.sha256);
  });

  it('fails closed when the adapter does not match its recorded sha256', async () => {
    const out = await activities.audit(input({ forgetSubjectIds: ['anyone'], adapter: { path: adapter.path, sha256: '0'.repeat(64) } }));
    assert.equal(out.decision, 'REVIEW');
    assert.equal(out.auditError!.reason, 'ADAPTER_SHA_MISMATCH');
    assert.equal(out.metrics, null);
  });
});
