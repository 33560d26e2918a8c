// Runs PULSE's protocol with the service's own parts: the worker's unlearn/export_onnx (through
// WorkerClient) and the audit's scorer + metrics (src/audits/runtime, src/audits/domain).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditMetrics, AuditScope, computeRawMetrics, itemsToScore, metricsForScope, ModalityMetrics, relateMetrics } from '../../src/audits/domain/metrics';
import { AdapterRef, ScoredItem } from '../../src/audits/domain/eval-item';
import { selectPretrainedTargets } from '../../src/audits/domain/target-selection';
import { loadEvalItems, openScorer, RuntimeEvalItem } from '../../src/audits/runtime';
import type { Method, Setting, Strategy, Targets } from './args';
import { finetunedSplit, PeopleSplit, planRounds, pretrainedSplit, RoundPlan, splitIntoParts, stepBudget } from './splits';
import { DEFAULT_GATE_POLICY, GatePolicy } from '../../src/audits/domain/gate-policy';
import { forgettingChecks } from '../../src/audits/domain/forgetting-rules';
import { MODALITIES, Modality } from '../../src/audits/domain/eval-item';
import { accuracyOfTally, holdsOf, type ModalityAccuracy, type PassKind, passTraining, peopleAbove, runPasses } from '../../src/orchestration/domain/passes';
import { EngineDefaults, WorkerClient } from './worker-client';
import { GOAL } from './report';

export type { ModalityAccuracy };

export interface SetScores {
  forget: ModalityAccuracy;
  retain: ModalityAccuracy;
  general: number | null;
}

/** This request's forgotten people against the never-seen people on one version, one modality (src/audits/domain/forgetting-evidence.ts). */
export interface ForgettingLine {
  /** Questions of the forgotten people, and of the never-seen people. */
  n: number;
  referenceN: number;
  /** KS p-value of pRight, forgotten vs never seen (the gate's FORGET_QUALITY), and its statistic D. */
  forgetQuality: number | null;
  ksStatistic: number | null;
  /** Loss-attack AUC and its confidence interval at the policy's significance (MIA_AUC: must reach into 0.5 +- maxMiaAucDistance). */
  miaAuc: number | null;
  miaAucInterval: [number, number] | null;
  /** Shares of the right answer being the 1st..4th choice. */
  rankShares: number[] | null;
  /** Binomial P(X <= correct | chance): below the significance, answered reliably wrong (BELOW_CHANCE). */
  belowChance: number | null;
  /** Whether each forgetting rule of the policy passes, for this request's people. */
  passes: Record<string, boolean>;
}

/** The forgetting evidence of this request's people per modality, with the default gate's verdict on each rule. */
export function forgettingLines(metrics: AuditMetrics, policy: GatePolicy = DEFAULT_GATE_POLICY): Record<Modality, ForgettingLine> | undefined {
  const evidence = metrics.forgetting;
  if (!evidence) return undefined;
  const checks = forgettingChecks(metrics, policy).filter((c) => c.metric.startsWith('forgetting.forget.'));
  return Object.fromEntries(
    MODALITIES.map((m) => {
      const e = evidence.forget[m];
      const mine = checks.filter((c) => c.metric.startsWith(`forgetting.forget.${m}.`));
      const auc = mine.find((c) => c.rule === 'MIA_AUC');
      return [m, {
        n: e.n,
        referenceN: e.referenceN,
        forgetQuality: e.forgetQuality?.pValue ?? null,
        ksStatistic: e.forgetQuality?.statistic ?? null,
        miaAuc: e.miaAuc?.auc ?? null,
        miaAucInterval: (auc?.interval as [number, number] | undefined) ?? null,
        rankShares: e.rankShares,
        belowChance: e.belowChance?.pValue ?? null,
        passes: Object.fromEntries(mine.map((c) => [c.rule, c.passed])),
      }];
    }),
  ) as Record<Modality, ForgettingLine>;
}

export interface RoundResult {
  round: number;
  forget: ModalityAccuracy;
  cumulativeForget: ModalityAccuracy;
  retain: ModalityAccuracy;
  general: number | null;
  /** Accuracy of every person forgotten so far (the goal's "every forgotten subject"). */
  forgottenSubjects: Record<string, ModalityAccuracy>;
  /** This request's people against the never-seen people (absent in reports from before it was measured). */
  forgetting?: Record<Modality, ForgettingLine>;
  trainedOnPeople: number;
  /** The people each re-forget pass of this round trained on (RunSpec.reforgetPasses); absent in reports from before re-forgetting. */
  reforgotten?: string[][];
  /** Training steps of the round's operations, re-forget passes included. */
  steps: number;
  unlearnSeconds: number;
  auditSeconds: number;
}

export interface RunResult {
  /** The model directory version 0 came from. */
  model: string;
  setting: Setting;
  method: Method;
  strategy: Strategy | null;
  targets: Targets;
  seed: number;
  hyperParameters: Record<string, number | string>;
  /** Absent in reports from before re-forgetting (= 0). */
  reforgetPasses?: number;
  /** Whom a pass took: above this accuracy. Absent in reports from before the option (= the goal's 0.4). */
  reforgetAboveAccuracy?: number;
  split: PeopleSplit;
  /** Fewest questions any forgotten person has in one modality (what a per-person accuracy rests on). */
  questionsPerPerson: number;
  baseline: SetScores;
  /** Version 0's forgotten people against the never-seen people (absent in reports from before it was measured). */
  baselineForgetting?: Record<Modality, ForgettingLine>;
  rounds: RoundResult[];
  wallSeconds: number;
}

export interface RunSpec {
  setting: Setting;
  method: Method;
  /** Sustainability only. */
  strategy: Strategy | null;
  targets: Targets;
  seed: number;
  /** Requests the fine-tuned forget set is split into: sustainability runs them, every setting sizes its step budget by one. */
  rounds: number;
  maxPeople: number | null;
  /** Training steps per request's worth of people (see stepBudget). */
  maxSteps: number;
  hyperOverrides: Record<string, number | string>;
  /** Sequential sustainability: more passes after each request on the forgotten people still above the goal. */
  reforgetPasses: number;
  /** A pass takes the forgotten people above this accuracy in either modality. */
  reforgetAboveAccuracy: number;
}

export interface HarnessOptions {
  worker: WorkerClient;
  modelDir: string;
  datasetDir: string;
  /** Exports and forget-set files; content-addressed, so reruns reuse them. */
  cacheDir: string;
  /** Trained adapters, reused for the same unlearn input: give each version of the training code its own. */
  adaptersDir: string;
  /** Progress lines (stderr in the CLI). */
  progress(message: string): void;
  scoreBatchSize?: number;
}

const BASE_MODEL_ID = 'pulse-bench-base';

function accuracyOf(m: ModalityMetrics): ModalityAccuracy {
  return { multimodal: m.multimodal.accuracy, text: m.text.accuracy };
}

function sha256(bytes: Buffer | string): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

export class PulseHarness {
  private readonly items: RuntimeEvalItem[];
  private defaults: EngineDefaults | null = null;
  private readonly exports = new Map<Targets, Promise<string>>();
  private baseline: Promise<AuditMetrics> | null = null;

  constructor(private readonly options: HarnessOptions) {
    this.items = loadEvalItems(options.datasetDir);
  }

  subjectIds(split: 'fictional' | 'celebrity'): string[] {
    return [...new Set(this.items.filter((i) => i.split === split).map((i) => i.subjectId!))].sort();
  }

  /** The ONNX graphs for one LoRA configuration, exported once (the export is keyed on base + LoRA). */
  private exportDir(targets: Targets): Promise<string> {
    let dir = this.exports.get(targets);
    if (!dir) {
      dir = this.engineDefaults().then(async (d) => {
        this.options.progress(`exporting ONNX graphs for LoRA targets ${targets} (once)…`);
        const out = await this.options.worker.exportOnnx({
          baseModel: { path: this.options.modelDir, id: BASE_MODEL_ID },
          lora: { ...d.lora, targets },
          outputRoot: path.join(this.options.cacheDir, 'exports'),
        });
        return out.dir;
      });
      this.exports.set(targets, dir);
    }
    return dir;
  }

  private async engineDefaults(): Promise<EngineDefaults> {
    this.defaults ??= await this.options.worker.defaults();
    return this.defaults;
  }

  /** Scores one version on the given items with the audit's scorer and metrics. */
  private async score(exportDir: string, adapter: AdapterRef | null, items: RuntimeEvalItem[], scope: AuditScope, label: string): Promise<AuditMetrics> {
    const toScore = itemsToScore(items, scope.circularEval);
    const scorer = await openScorer({ exportDir, modelDir: this.options.modelDir, adapter, batchSize: this.options.scoreBatchSize ?? 32 });
    try {
      const scores: ScoredItem[] = [];
      const chunk = 256;
      for (let start = 0; start < toScore.length; start += chunk) {
        scores.push(...(await scorer.score(toScore.slice(start, start + chunk))));
        this.options.progress(`${label}: audited ${scores.length}/${toScore.length} questions`);
      }
      return computeRawMetrics(items, toScore, scores, scope);
    } finally {
      await scorer.close();
    }
  }

  /** Version 0 on every question, once: zero LoRA tensors make any export the base model. */
  private baselineMetrics(): Promise<AuditMetrics> {
    this.baseline ??= this.exportDir('llm').then((dir) =>
      this.score(dir, null, this.items, { forgetSubjectIds: [], cumulativeForgetSubjectIds: [], retainSubjectIds: null, circularEval: false }, 'version 0'),
    );
    return this.baseline;
  }

  /** Who is forgotten and retained for a setting and seed. */
  async split(spec: RunSpec): Promise<PeopleSplit> {
    if (spec.setting === 'pretrained') {
      const ranked = selectPretrainedTargets(await this.baselineMetrics(), Number.MAX_SAFE_INTEGER, this.subjectIds('celebrity'));
      return pretrainedSplit(ranked.map((r) => r.subjectId), spec.seed, spec.maxPeople);
    }
    return finetunedSplit(this.subjectIds('fictional'), spec.seed, spec.maxPeople);
  }

  /** Forget-set files are content-addressed: the unlearn input (and so its artifact) is stable across runs. */
  private writeForgetSet(subjectIds: string[]): { path: string; sha256: string } {
    const body = JSON.stringify({
      subjects: subjectIds.map((id) => ({ requestId: `pulse-${id}`, name: id, datasetSubjectId: id, images: [], facts: [] })),
    });
    const digest = sha256(body);
    const dir = path.join(this.options.cacheDir, 'forget-sets');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${digest}.json`);
    if (!fs.existsSync(file)) fs.writeFileSync(file, body);
    return { path: file, sha256: digest };
  }

  async run(spec: RunSpec): Promise<RunResult> {
    const started = Date.now();
    const label = `${spec.setting} ${spec.method}${spec.strategy ? ` ${spec.strategy}` : ''} ${spec.targets} seed ${spec.seed}`;
    const defaults = await this.engineDefaults();
    const hyperParameters = {
      ...defaults.hyperParameters[spec.method],
      maxSteps: spec.maxSteps,
      ...spec.hyperOverrides,
    };
    const exportDir = await this.exportDir(spec.targets);
    const baselineAll = await this.baselineMetrics();
    const split = await this.split(spec);
    const parts = spec.setting === 'sustainability' ? splitIntoParts(split.forget, spec.rounds) : [split.forget];
    const plans = planRounds(parts, spec.strategy ?? 'sequential');
    // One request = a sustainability part of the fine-tuned forget set, in every setting.
    const peoplePerRequest = Math.ceil(finetunedSplit(this.subjectIds('fictional'), spec.seed, spec.maxPeople).forget.length / spec.rounds);
    const people = new Set([...split.forget, ...split.retain]);
    // The never-seen people's questions are the reference of the forgetting evidence (never counted as retained: the scope names retain).
    const items = this.items.filter((i) => i.split === 'general' || i.split === 'never_seen' || (i.subjectId !== null && people.has(i.subjectId)));
    const fullScope: AuditScope = { forgetSubjectIds: split.forget, cumulativeForgetSubjectIds: split.forget, retainSubjectIds: split.retain, circularEval: false };
    const baselineInScope = metricsForScope(baselineAll, fullScope)!;
    const baselineScores = this.setScores(baselineInScope);

    const rounds: RoundResult[] = [];
    let parent: AdapterRef | null = null;
    let parentMetrics: AuditMetrics | null = null;
    // The version that last trained on each forgotten person: later operations hold them there.
    const heldAt = new Map<string, AdapterRef>();
    for (const plan of plans) {
      const roundLabel = `${label} round ${plan.round}/${plans.length}`;
      const scope = roundScope(plan, split.retain);
      let unlearnSeconds = 0;
      let auditSeconds = 0;
      let steps = 0;
      const trainAndAudit = async (trainOn: string[], excludeFromRetain: string[], from: AdapterRef | null, passLabel: string, pass?: { kind: PassKind; number: number }) => {
        const budget = { ...hyperParameters, maxSteps: stepBudget(spec.maxSteps, trainOn.length, peoplePerRequest) };
        const training = pass ? passTraining(pass.kind, pass.number, spec.seed, budget) : { seed: spec.seed, hyperParameters: budget };
        const t0 = Date.now();
        const out = await this.options.worker.unlearn(
          {
            baseModel: { path: this.options.modelDir, id: BASE_MODEL_ID },
            dataset: { path: this.options.datasetDir },
            parentAdapter: from,
            forgetSet: this.writeForgetSet(trainOn),
            excludeFromRetain,
            forgottenBy: from ? holdsOf(heldAt, trainOn) : [],
            method: spec.method,
            ...training,
            lora: { ...defaults.lora, targets: spec.targets },
            outputRoot: this.options.adaptersDir,
          },
          (step, total) => {
            if (step === total || step % Math.max(1, Math.ceil(total / 5)) === 0) this.options.progress(`${passLabel}: unlearn step ${step}/${total}`);
          },
        );
        unlearnSeconds += (Date.now() - t0) / 1000;
        steps += out.steps;
        for (const id of trainOn) heldAt.set(id, out.adapter);
        const t1 = Date.now();
        const raw = await this.score(exportDir, out.adapter, items, scope, passLabel);
        auditSeconds += (Date.now() - t1) / 1000;
        return { adapter: out.adapter, metrics: relateMetrics(raw, baselineAll, parentMetrics) };
      };

      const first = await trainAndAudit(plan.trainOn, plan.excludeFromRetain, plan.continuesPrevious ? parent : null, roundLabel);
      const reforgotten: string[][] = [];
      const forgottenOf = (m: AuditMetrics) => Object.fromEntries(plan.cumulative.map((id) => [id, subjectAccuracy(m, id)]));
      // The service's passes (src/orchestration/domain/passes.ts) under the default gate policy. The benchmark has no
      // gate: every candidate counts as passing it.
      const goal = DEFAULT_GATE_POLICY.goal;
      type Candidate = { adapter: AdapterRef; metrics: AuditMetrics; passesGate: true; undoHolds: () => void };
      type PassPlan = { above: string[]; label: string };
      const kept = await runPasses<Candidate, PassPlan>(
        { ...first, passesGate: true, undoHolds: () => {} },
        { reforgetPasses: spec.strategy === 'sequential' ? spec.reforgetPasses : 0, goal },
        {
          plan: async (kind, pass, current) => {
            const line = kind === 'goal' ? goal.maxForgottenAccuracy : spec.reforgetAboveAccuracy;
            const above = peopleAbove(forgottenOf(current.metrics), line);
            const of = kind === 'goal' ? `goal pass ${pass}/${goal.passes}` : `re-forget ${pass}/${spec.reforgetPasses}`;
            return above.length === 0 ? null : { above, label: `${roundLabel} ${of} (${above.length} above ${line})` };
          },
          // A pass trains on the people above the line, continuing the adapter kept so far; everyone else forgotten so far,
          // this round's people included, is out of retain and held. undoHolds puts them back when the pass is dropped.
          train: async (kind, pass, current, { above, label }) => {
            const heldBefore = new Map(heldAt);
            const passed = await trainAndAudit(above, plan.cumulative.filter((id) => !above.includes(id)), current.adapter, label, { kind, number: pass });
            return { ...passed, passesGate: true, undoHolds: () => restoreHolds(heldAt, heldBefore, above) };
          },
          keep: async (_kind, _pass, _replaced, _passed, { above }) => {
            reforgotten.push(above);
          },
          drop: async (_kind, _pass, _kept, passed, { label }, verdict) => {
            const why = verdict.because === 'MORE_ABOVE_GOAL'
              ? `leaves ${verdict.after} forgotten people above ${goal.maxForgottenAccuracy} where the adapter it continues left ${verdict.before}`
              : `does not leave fewer forgotten people above ${goal.maxForgottenAccuracy}`;
            this.options.progress(`${label}: ${why}; the adapter it continues is kept`);
            passed.undoHolds();
          },
        },
      );
      const { adapter, metrics } = kept;
      rounds.push({
        round: plan.round,
        ...this.setScores(metrics),
        cumulativeForget: accuracyOf(metrics.cumulativeForget),
        forgottenSubjects: forgottenOf(metrics),
        forgetting: forgettingLines(metrics),
        trainedOnPeople: plan.trainOn.length,
        reforgotten,
        steps,
        unlearnSeconds,
        auditSeconds,
      });
      parent = adapter;
      parentMetrics = metrics;
    }
    return {
      model: this.options.modelDir,
      setting: spec.setting,
      method: spec.method,
      strategy: spec.strategy,
      targets: spec.targets,
      seed: spec.seed,
      hyperParameters,
      reforgetPasses: spec.reforgetPasses,
      ...(spec.reforgetPasses && spec.reforgetAboveAccuracy !== GOAL.maxForgottenAccuracy ? { reforgetAboveAccuracy: spec.reforgetAboveAccuracy } : {}),
      split,
      questionsPerPerson: fewestQuestions(items, split.forget),
      baseline: baselineScores,
      baselineForgetting: forgettingLines(metricsForScope(baselineAll, { ...fullScope, forgetSubjectIds: plans[0].requested, cumulativeForgetSubjectIds: plans[0].requested })!),
      rounds,
      wallSeconds: (Date.now() - started) / 1000,
    };
  }

  private setScores(m: AuditMetrics): SetScores {
    return { forget: accuracyOf(m.forget), retain: accuracyOf(m.retain), general: m.general.overall.accuracy };
  }
}

function roundScope(plan: RoundPlan, retain: string[]): AuditScope {
  return { forgetSubjectIds: plan.requested, cumulativeForgetSubjectIds: plan.cumulative, retainSubjectIds: retain, circularEval: false };
}

function fewestQuestions(items: RuntimeEvalItem[], people: string[]): number {
  const counts = people.flatMap((id) => (['multimodal', 'text'] as const).map((m) => items.filter((i) => i.subjectId === id && i.modality === m).length));
  return counts.length ? Math.min(...counts) : 0;
}

function subjectAccuracy(metrics: AuditMetrics, subjectId: string): ModalityAccuracy {
  return accuracyOfTally(metrics.perSubject[subjectId]);
}

/** Undoes a dropped pass's holds: the people it trained on are held again where they were before it. */
function restoreHolds(heldAt: Map<string, AdapterRef>, before: ReadonlyMap<string, AdapterRef>, trainedOn: readonly string[]): void {
  for (const id of trainedOn) {
    const held = before.get(id);
    if (held) heldAt.set(id, held);
    else heldAt.delete(id);
  }
}
