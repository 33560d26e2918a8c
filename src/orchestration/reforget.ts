// Re-forgetting: after an operation's audit, more passes train only on the forgotten people the
// audit still finds above a limit, while everyone else forgotten is held where the version that
// last trained on them had them. Used by the lineage workflow (through planReforget) and by the
// PULSE benchmark (`npm run pulse -- … --reforget N`), so both pick and hold the same way.
import { isAbove } from '../audits/domain/decision';
import type { AuditMetrics, SubjectTally } from '../audits/domain/metrics';
import type { FileRef, ForgottenBy } from './contracts';

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

/** PULSE's line per person: every forgotten subject at or below 0.40 accuracy in both modalities. */
export const PER_PERSON_GOAL = 0.4;

/**
 * How many of the people an audit counts as forgotten (its request's and every earlier request's) are above the
 * per-person goal in either modality; null for an audit without per-person numbers.
 */
export function forgottenAboveGoal(metrics: Pick<AuditMetrics, 'scope' | 'perSubject'> | null | undefined): number | null {
  if (!metrics?.perSubject || !metrics.scope) return null;
  const forgotten = new Set([...metrics.scope.cumulativeForgetSubjectIds, ...metrics.scope.forgetSubjectIds]);
  return peopleAbove(Object.fromEntries([...forgotten].map((id) => [id, accuracyOfTally(metrics.perSubject[id])])), PER_PERSON_GOAL).length;
}

/**
 * The rule both the lineage workflow and the PULSE benchmark apply to a re-forget pass: the counts above the per-person
 * goal of the candidate it continues and of the pass, when the pass leaves more people above it; else null (also when
 * either audit has no per-person numbers).
 */
export function passWorsensGoal(
  continued: Pick<AuditMetrics, 'scope' | 'perSubject'> | null | undefined,
  pass: Pick<AuditMetrics, 'scope' | 'perSubject'> | null | undefined,
): { before: number; after: number } | null {
  const [before, after] = [forgottenAboveGoal(continued), forgottenAboveGoal(pass)];
  return before !== null && after !== null && after > before ? { before, after } : null;
}

/**
 * Goal passes: after a step's passes, while its candidate passes the gate and leaves forgotten people above the
 * per-person goal, up to GOAL_PASSES more operations on just those people, each from the candidate kept so far with a
 * seed of its own and the log-odds ascent. A pass on a few people lifts someone it does not train on over the line
 * about as often as not, so each pass is kept only if it leaves fewer people above the goal, and the next one tries
 * another seed (docs/tiny-model-notes.md, session 27).
 */
export const GOAL_PASSES = 3;

/** Whether a goal pass is kept: both audits have per-person numbers and the pass leaves fewer people above the goal. */
export function goalPassImproves(
  continued: Pick<AuditMetrics, 'scope' | 'perSubject'> | null | undefined,
  pass: Pick<AuditMetrics, 'scope' | 'perSubject'> | null | undefined,
): boolean {
  const [before, after] = [forgottenAboveGoal(continued), forgottenAboveGoal(pass)];
  return before !== null && after !== null && after < before;
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
