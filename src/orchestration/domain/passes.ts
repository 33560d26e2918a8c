// Re-forget and goal passes: after an operation's audit, more operations train only on the forgotten
// people the audit still finds above a line, continuing the candidate kept so far, while everyone else
// forgotten is held where the version that last trained on them had them. Which pass is kept follows
// the lineage's gate policy (its `goal` section). The lineage workflow and the PULSE harness both run
// their passes through runPasses, so the service and the benchmark pick, keep and drop the same way.
// Pure and deterministic: no I/O of its own, safe in workflow code.
import { isAbove } from '../../audits/domain/decision';
import type { GatePolicy } from '../../audits/domain/gate-policy';
import type { AuditMetrics, SubjectTally } from '../../audits/domain/metrics';
import type { FileRef, ForgottenBy, HyperParameters } from '../../common/gpu-contracts';

/** Accuracy per modality (PULSE's M); null when there is no question of that modality. */
export interface ModalityAccuracy {
  multimodal: number | null;
  text: number | null;
}

export function accuracyOfTally(tally: SubjectTally | undefined): ModalityAccuracy {
  const of = (t: { correct: number; total: number } | undefined) => (t && t.total > 0 ? t.correct / t.total : null);
  return { multimodal: of(tally?.multimodal), text: of(tally?.text) };
}

/** The people above `limit` in either modality, in id order. A missing number is not above; nor is the limit itself, up to rounding. */
export function peopleAbove(people: Record<string, ModalityAccuracy>, limit: number): string[] {
  const above = (v: number | null) => v !== null && isAbove(v, limit);
  return Object.keys(people).filter((id) => above(people[id].multimodal) || above(people[id].text)).sort();
}

/** What the pass rules read of an audit: who is forgotten and how each person answered. */
export type PerPersonMetrics = Pick<AuditMetrics, 'scope' | 'perSubject'>;

/**
 * How many of the people an audit counts as forgotten (its request's and every earlier request's) are above
 * `line` in either modality; null for an audit without per-person numbers.
 */
export function forgottenAbove(metrics: PerPersonMetrics | null | undefined, line: number): number | null {
  if (!metrics?.perSubject || !metrics.scope) return null;
  const forgotten = new Set([...metrics.scope.cumulativeForgetSubjectIds, ...metrics.scope.forgetSubjectIds]);
  return peopleAbove(Object.fromEntries([...forgotten].map((id) => [id, accuracyOfTally(metrics.perSubject[id])])), line).length;
}

/** forgottenBy of an operation: each held person at the version that last trained on them, one entry per version in first-use order. */
export function holdsOf(heldAt: ReadonlyMap<string, FileRef>, trainOn: readonly string[]): ForgottenBy[] {
  const byAdapter = new Map<string, ForgottenBy>();
  for (const [id, adapter] of heldAt) {
    if (trainOn.includes(id)) continue;
    const entry = byAdapter.get(adapter.sha256) ?? { adapter, datasetSubjectIds: [] };
    entry.datasetSubjectIds.push(id);
    byAdapter.set(adapter.sha256, entry);
  }
  return [...byAdapter.values()];
}

/**
 * A re-forget pass continues the candidate on the people above the lineage's re-forget line; a goal pass,
 * after those, on the people above the policy's goal line.
 */
export type PassKind = 'reforget' | 'goal';

/** A candidate as the pass rules see it. */
export interface PassCandidate {
  /** Whether the gate passed it. The benchmark has no gate and counts every candidate as passing. */
  passesGate: boolean;
  metrics: PerPersonMetrics | null | undefined;
}

/** Why a pass was not kept; the counts are forgotten people above the goal line (null without per-person numbers). */
export type PassVerdict =
  | { keep: true }
  | { keep: false; because: 'FAILS_GATE' }
  | { keep: false; because: 'MORE_ABOVE_GOAL' | 'NOT_FEWER_ABOVE_GOAL'; before: number | null; after: number | null };

/**
 * A re-forget pass replaces the candidate it continues unless that one passed the gate and the pass does not,
 * or leaves more forgotten people above the goal line: a passing candidate is never traded for a failing or a
 * worse one. While a pass trains on the people at the edge it can lift someone it does not train on over the line.
 */
export function judgeReforgetPass(continued: PassCandidate, pass: PassCandidate, goal: GatePolicy['goal']): PassVerdict {
  if (!continued.passesGate) return { keep: true };
  if (!pass.passesGate) return { keep: false, because: 'FAILS_GATE' };
  const [before, after] = [forgottenAbove(continued.metrics, goal.maxForgottenAccuracy), forgottenAbove(pass.metrics, goal.maxForgottenAccuracy)];
  return before !== null && after !== null && after > before ? { keep: false, because: 'MORE_ABOVE_GOAL', before, after } : { keep: true };
}

/**
 * A goal pass on a few people lifts someone it does not train on over the line about as often as not, so it is
 * kept only when it passes the gate and leaves fewer forgotten people above the goal line than the candidate it
 * continues (both audits with per-person numbers).
 */
export function judgeGoalPass(continued: PassCandidate, pass: PassCandidate, goal: GatePolicy['goal']): PassVerdict {
  if (!pass.passesGate) return { keep: false, because: 'FAILS_GATE' };
  const [before, after] = [forgottenAbove(continued.metrics, goal.maxForgottenAccuracy), forgottenAbove(pass.metrics, goal.maxForgottenAccuracy)];
  return before !== null && after !== null && after < before ? { keep: true } : { keep: false, because: 'NOT_FEWER_ABOVE_GOAL', before, after };
}

/** Goal passes go on while the candidate kept so far passes the gate and leaves someone forgotten above the goal line. */
export function wantsGoalPass(current: PassCandidate, goal: GatePolicy['goal']): boolean {
  return current.passesGate && (forgottenAbove(current.metrics, goal.maxForgottenAccuracy) ?? 0) > 0;
}

/**
 * What a pass trains with beyond the step's own settings: a goal pass uses the log-odds ascent and a seed of its
 * own (the step's seed + its number), so a pass that was dropped is not tried again the same way.
 */
export function passTraining<H extends object>(kind: PassKind, pass: number, seed: number, hyperParameters: H): { seed: number; hyperParameters: H } {
  const ascentObjective: HyperParameters['ascentObjective'] = 'logOdds';
  return kind === 'goal' ? { seed: seed + pass, hyperParameters: { ...hyperParameters, ascentObjective } } : { seed, hyperParameters };
}

export interface PassRules {
  /** Re-forget passes after the step's operation (the lineage's reforgetPasses); goal passes follow only when > 0. */
  reforgetPasses: number;
  goal: GatePolicy['goal'];
}

/** What the caller does for a pass: plan it (null: nobody above the line), train and audit it, and keep or drop it. */
export interface PassSteps<C extends PassCandidate, P> {
  plan(kind: PassKind, pass: number, current: C): Promise<P | null>;
  train(kind: PassKind, pass: number, current: C, plan: P): Promise<C>;
  /** `pass` replaces `replaced`. */
  keep(kind: PassKind, pass: number, replaced: C, passed: C, plan: P): Promise<void>;
  /** `passed` is dropped and `kept` stays. */
  drop(kind: PassKind, pass: number, kept: C, passed: C, plan: P, verdict: Exclude<PassVerdict, { keep: true }>): Promise<void>;
}

/** How each kind of pass is judged, whether it is wanted at all, and whether a dropped one ends that kind's passes. */
const PASS_KINDS: Record<PassKind, {
  judge(continued: PassCandidate, pass: PassCandidate, goal: GatePolicy['goal']): PassVerdict;
  wanted(current: PassCandidate, goal: GatePolicy['goal']): boolean;
  endsWhenDropped: boolean;
}> = {
  reforget: { judge: judgeReforgetPass, wanted: () => true, endsWhenDropped: true },
  // A dropped goal pass lets the next one (another seed) try from the same candidate.
  goal: { judge: judgeGoalPass, wanted: wantsGoalPass, endsWhenDropped: false },
};

async function passesOfKind<C extends PassCandidate, P>(kind: PassKind, count: number, from: C, goal: GatePolicy['goal'], steps: PassSteps<C, P>): Promise<C> {
  const { judge, wanted, endsWhenDropped } = PASS_KINDS[kind];
  let current = from;
  for (let pass = 1; pass <= count && wanted(current, goal); pass++) {
    const plan = await steps.plan(kind, pass, current);
    if (plan === null) break;
    const passed = await steps.train(kind, pass, current, plan);
    const verdict = judge(current, passed, goal);
    if (verdict.keep) {
      await steps.keep(kind, pass, current, passed, plan);
      current = passed;
      continue;
    }
    await steps.drop(kind, pass, current, passed, plan, verdict);
    if (endsWhenDropped) break;
  }
  return current;
}

/**
 * Runs a step's re-forget passes, then (only on a lineage that re-forgets) its goal passes, from the candidate
 * of its operation; returns the candidate to gate.
 */
export async function runPasses<C extends PassCandidate, P>(first: C, rules: PassRules, steps: PassSteps<C, P>): Promise<C> {
  const reforgotten = await passesOfKind('reforget', rules.reforgetPasses, first, rules.goal, steps);
  return rules.reforgetPasses > 0 ? passesOfKind('goal', rules.goal.passes, reforgotten, rules.goal, steps) : reforgotten;
}
