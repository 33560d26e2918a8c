// The benchmark's numbers: runs aggregated over seeds (mean and spread) into one JSON report per
// setting (setting, method, strategy, targets, baseline, rounds; seeds and spread when there are
// several; the goal check), and the goal check of the sequential-requests strategy search. Pure.
// The JSON keeps one shape so that saved reports can be rendered and compared later (--from, --include).
import type { Method, Setting, Strategy, Targets } from './args';
import type { ForgettingLine, ModalityAccuracy, RunResult } from './harness';
import { isAbove, isBelow } from '../../src/audits/domain/decision';
import { MODALITIES } from '../../src/audits/domain/eval-item';
import type { SubjectTally } from '../../src/audits/domain/metrics';
import { DEFAULT_GATE_POLICY } from '../../src/audits/domain/gate-policy';
import { accuracyOfTally } from '../../src/orchestration/domain/passes';

export interface RoundLine {
  round: number;
  forget: ModalityAccuracy;
  cumulativeForget: ModalityAccuracy;
  retain: ModalityAccuracy;
  general: number | null;
  /** One seed only: this request's people against the never-seen people, per modality (harness forgettingLines). */
  forgetting?: Record<string, ForgettingLine>;
}

export interface SettingReport {
  model: string;
  setting: Setting;
  method: Method;
  strategy: Strategy | null;
  targets: Targets;
  baseline: { forget: ModalityAccuracy; retain: ModalityAccuracy; general: number | null };
  rounds: RoundLine[];
  /** Present with more than one seed: the means above, their standard deviation here. */
  seeds?: number;
  spread?: { baseline: SettingReport['baseline']; rounds: RoundLine[] };
  goal?: GoalCheck;
  wallSeconds: number;
  hyperParameters: Record<string, number | string>;
  /** Re-forget passes allowed after each sequential request (RunSpec.reforgetPasses); absent = 0. */
  reforgetPasses?: number;
  /** Whom the passes took, when not the goal's 0.4 (RunSpec.reforgetAboveAccuracy). */
  reforgetAboveAccuracy?: number;
  people: { forget: number; retain: number };
  /** One seed only: version 0's first request against the never-seen people, per modality. */
  baselineForgetting?: Record<string, ForgettingLine>;
  /** What an included earlier run tried beyond its hyperParameters (`--include FILE=LABEL`), e.g. a change of the code since. */
  label?: string;
}

/** The goal beyond the paper, checked on the last round of a sequence of requests. */
export const GOAL = { maxForgottenAccuracy: DEFAULT_GATE_POLICY.goal.maxForgottenAccuracy, minRetainOfBaseline: 0.8, minGeneralOfBaseline: 0.9 } as const;

export interface GoalCheck {
  /** The run checked: with several seeds, the first that misses the goal (else the first). */
  seed: number;
  met: boolean;
  /** The worst (highest) accuracy of any forgotten person, per modality. */
  worstForgotten: ModalityAccuracy;
  /** Forgotten people above the goal's accuracy, per modality, and how many were forgotten. */
  peopleAbove: { multimodal: number; text: number; of: number };
  /**
   * The worst accuracy of any one request's people together, per modality. With 5 questions a person and
   * modality, a person's accuracy moves in steps of 0.2 and a model that guesses (0.25) puts 10 % of people
   * above 0.40; a request's 15 people (75 questions) measure forgetting, one person's 5 questions hardly do.
   */
  worstRequest: ModalityAccuracy;
  /** The goal with "every forgotten subject" read per request (worstRequest) instead of per person. */
  metPerRequest: boolean;
  /** Fewest questions any forgotten person has in one modality. */
  questionsPerPerson: number;
  retainOfBaseline: ModalityAccuracy;
  generalOfBaseline: number | null;
  failures: string[];
}

// A mean of fifths is not exact in floating point (0.2, 0.6, 0.4 average to 0.4000000000000001): noise must not
// decide a goal that sits exactly on its boundary, with the gate's tolerance.
/** Whether an accuracy is above the goal's limit for a forgotten person or request. */
export const aboveLimit = (v: number, limit: number = GOAL.maxForgottenAccuracy) => isAbove(v, limit);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
};

function combine(values: (number | null)[], f: (xs: number[]) => number): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === values.length && present.length > 0 ? f(present) : null;
}

function combineM(values: ModalityAccuracy[], f: (xs: number[]) => number): ModalityAccuracy {
  return { multimodal: combine(values.map((v) => v.multimodal), f), text: combine(values.map((v) => v.text), f) };
}

function combineRuns(runs: RunResult[], f: (xs: number[]) => number): { baseline: SettingReport['baseline']; rounds: RoundLine[] } {
  return {
    baseline: {
      forget: combineM(runs.map((r) => r.baseline.forget), f),
      retain: combineM(runs.map((r) => r.baseline.retain), f),
      general: combine(runs.map((r) => r.baseline.general), f),
    },
    rounds: runs[0].rounds.map((_, i) => ({
      round: i + 1,
      forget: combineM(runs.map((r) => r.rounds[i].forget), f),
      cumulativeForget: combineM(runs.map((r) => r.rounds[i].cumulativeForget), f),
      retain: combineM(runs.map((r) => r.rounds[i].retain), f),
      general: combine(runs.map((r) => r.rounds[i].general), f),
    })),
  };
}

const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);

/** Whether one run's last round meets the goal; every forgotten person counts, not the average. */
export function checkGoal(run: RunResult): GoalCheck {
  const last = run.rounds[run.rounds.length - 1];
  const people = Object.values(last.forgottenSubjects);
  const worst = (m: keyof ModalityAccuracy) => combine(people.map((p) => p[m]), (xs) => Math.max(...xs));
  const worstForgotten = { multimodal: worst('multimodal'), text: worst('text') };
  const above = (m: keyof ModalityAccuracy) => people.filter((p) => p[m] !== null && aboveLimit(p[m]!)).length;
  const requests = requestGroups(run).map((ids) => ids.map((id) => last.forgottenSubjects[id]));
  const worstOfRequests = (m: keyof ModalityAccuracy) =>
    combine(requests.map((group) => combine(group.map((p) => p[m]), mean)).filter((x): x is number => x !== null), (xs) => Math.max(...xs));
  const worstRequest = { multimodal: worstOfRequests('multimodal'), text: worstOfRequests('text') };
  const retainOfBaseline = {
    multimodal: ratio(last.retain.multimodal, run.baseline.retain.multimodal),
    text: ratio(last.retain.text, run.baseline.retain.text),
  };
  const generalOfBaseline = ratio(last.general, run.baseline.general);
  const failures: string[] = [];
  const costs: string[] = [];
  let requestsForgotten = true;
  for (const m of ['multimodal', 'text'] as const) {
    const w = worstForgotten[m];
    if (w === null || aboveLimit(w)) failures.push(`a forgotten person still at ${fmt(w)} ${m} accuracy (> ${GOAL.maxForgottenAccuracy})`);
    const q = worstRequest[m];
    if (q === null || aboveLimit(q)) {
      requestsForgotten = false;
      failures.push(`a request's people together still at ${fmt(q)} ${m} accuracy (> ${GOAL.maxForgottenAccuracy})`);
    }
    const r = retainOfBaseline[m];
    if (r === null || isBelow(r, GOAL.minRetainOfBaseline)) costs.push(`retain ${m} at ${pct(r)} of baseline (< ${pct(GOAL.minRetainOfBaseline)})`);
  }
  if (generalOfBaseline === null || isBelow(generalOfBaseline, GOAL.minGeneralOfBaseline)) {
    costs.push(`general at ${pct(generalOfBaseline)} of baseline (< ${pct(GOAL.minGeneralOfBaseline)})`);
  }
  failures.push(...costs);
  return {
    seed: run.seed,
    met: failures.length === 0,
    metPerRequest: requestsForgotten && costs.length === 0,
    worstForgotten,
    peopleAbove: { multimodal: above('multimodal'), text: above('text'), of: people.length },
    worstRequest,
    questionsPerPerson: run.questionsPerPerson,
    retainOfBaseline,
    generalOfBaseline,
    failures,
  };
}

/** Share of people a model answering right with probability `chance` (guessing among 4 options) puts above the goal's accuracy, with n questions each. */
export function guessingAbove(n: number, chance = 0.25): number {
  let p = 0;
  let binomial = 1;
  for (let k = 0; k <= n; k++) {
    if (k > 0) binomial = (binomial * (n - k + 1)) / k;
    if (aboveLimit(k / n)) p += binomial * chance ** k * (1 - chance) ** (n - k);
  }
  return p;
}

/**
 * Forgotten people above the goal in either modality: how many are, and how many would be if every question of
 * theirs were answered right at the forgotten people's mean rate in its modality. When the two agree, the people
 * above are the spread of a few questions around that mean, not people the model still knows; fewer of them then
 * takes a lower mean, not another pass on whoever happens to be above.
 */
export function aboveGoalAtMean(people: SubjectTally[]): { seen: number; atMean: number; of: number } {
  const rate = Object.fromEntries(MODALITIES.map((m) => {
    const total = people.reduce((a, p) => a + p[m].total, 0);
    return [m, total ? people.reduce((a, p) => a + p[m].correct, 0) / total : 0];
  })) as Record<keyof ModalityAccuracy, number>;
  const seen = people.map(accuracyOfTally).filter((a) => MODALITIES.some((m) => a[m] !== null && aboveLimit(a[m]!))).length;
  const atMean = people.reduce((a, p) => a + 1 - MODALITIES.reduce((below, m) => below * (1 - guessingAbove(p[m].total, rate[m])), 1), 0);
  return { seen, atMean, of: people.length };
}

/** The people of each request, in order: the ones a round added to the forgotten. */
export function requestGroups(run: RunResult): string[][] {
  const seen = new Set<string>();
  return run.rounds.map((r) => {
    const added = Object.keys(r.forgottenSubjects).filter((id) => !seen.has(id));
    added.forEach((id) => seen.add(id));
    return added;
  });
}

export function fmt(v: number | null): string {
  return v === null ? 'n/a' : v.toFixed(2);
}

export function pct(v: number | null): string {
  return v === null ? 'n/a' : `${Math.round(v * 100)}%`;
}

/** Runs of one (setting, method, strategy, targets), one per seed, as one report line. */
export function aggregate(runs: RunResult[]): SettingReport {
  if (runs.length === 0) throw new RangeError('aggregate: no runs');
  const first = runs[0];
  const means = combineRuns(runs, mean);
  // Test statistics do not average over seeds: the evidence is reported for a single run only.
  if (runs.length === 1) means.rounds.forEach((r, i) => { if (first.rounds[i].forgetting) r.forgetting = first.rounds[i].forgetting; });
  const report: SettingReport = {
    model: first.model,
    setting: first.setting,
    method: first.method,
    strategy: first.strategy,
    targets: first.targets,
    ...means,
    wallSeconds: runs.reduce((a, r) => a + r.wallSeconds, 0),
    hyperParameters: first.hyperParameters,
    ...(first.reforgetPasses ? { reforgetPasses: first.reforgetPasses } : {}),
    ...(first.reforgetAboveAccuracy !== undefined ? { reforgetAboveAccuracy: first.reforgetAboveAccuracy } : {}),
    people: { forget: first.split.forget.length, retain: first.split.retain.length },
    ...(runs.length === 1 && first.baselineForgetting ? { baselineForgetting: first.baselineForgetting } : {}),
  };
  if (runs.length > 1) {
    report.seeds = runs.length;
    report.spread = combineRuns(runs, std);
  }
  if (first.setting === 'sustainability') {
    const checks = runs.map(checkGoal);
    // With several seeds the goal must hold for every one of them.
    report.goal = checks.find((c) => !c.metPerRequest) ?? checks.find((c) => !c.met) ?? checks[0];
  }
  return report;
}

/** The `--json` line: one report's shape (see the top of this file), or {"results": [...]} for several. */
export function jsonLine(reports: SettingReport[]): string {
  const shape = (r: SettingReport) => ({
    setting: r.setting,
    method: r.method,
    strategy: r.strategy,
    targets: r.targets,
    baseline: r.baseline,
    rounds: r.rounds,
    ...(r.baselineForgetting ? { baselineForgetting: r.baselineForgetting } : {}),
    wallSeconds: r.wallSeconds,
    ...(r.seeds ? { seeds: r.seeds, spread: r.spread } : {}),
    ...(r.goal ? { goal: { met: r.goal.met, failures: r.goal.failures } } : {}),
  });
  return JSON.stringify(reports.length === 1 ? shape(reports[0]) : { results: reports.map(shape) });
}
