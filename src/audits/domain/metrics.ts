// PULSE metrics from scored eval items. Pure: no I/O, no framework.
//
// forget            this request's subjects, per modality (lower is better)
// cumulativeForget  every subject the lineage ever forgot, still forgotten (sustainability)
// retain            people not forgotten, per modality (higher is better)
// general           the MMBench-layout set, overall and per category, optionally CircularEval
//
// otherFormats     forget and cumulativeForget asked again in every prompt format no unlearning example uses, with
//                  their forgetting evidence: the gate takes the worst format (decision.ts)
//
// Each value is also related to version 0 (PULSE Figure 4: forget as the fraction forgotten,
// 1 - acc/acc0; the others as the fraction retained, acc/acc0) and to the parent version (delta).
import { AuditError } from './audit-error';
import { circularRotations, originalItemId } from './circular-eval';
import { CHANCE_LEVEL, EvalItem, Modality, OPTION_LETTERS, OTHER_PROMPT_FORMATS, PromptFormat, SCORING_METHOD, ScoredItem } from './eval-item';
import { ForgettingEvidence, forgettingEvidence } from './forgetting-evidence';
import { everForgotten, type AuditScope } from './audit-scope';
import { freeFormForScope, FreeFormMetrics } from './free-form';

export type { AuditScope } from './audit-scope';
import { isProbeSubjectId } from './profile-probes';

export interface MetricValue {
  /** Fraction correct; null when the set has no items (a missing number: the gate fails closed). */
  accuracy: number | null;
  correct: number;
  total: number;
  /** forget metrics: fraction forgotten vs version 0; others: fraction retained vs version 0. */
  ofBaseline: number | null;
  /** accuracy minus the parent version's accuracy. */
  deltaFromParent: number | null;
}

export type ModalityMetrics = Record<Modality, MetricValue>;

export interface GeneralMetrics {
  overall: MetricValue;
  byCategory: Record<string, MetricValue>;
}

export interface Tally {
  correct: number;
  total: number;
  /** Questions whose right answer was the model's second choice (absent in audits recorded before it was counted). */
  runnerUp?: number;
  /** pRight of each question, in eval-set order (absent in audits recorded before it was measured). */
  pRight?: number[];
  /** Questions whose right answer was the model's 1st, 2nd, 3rd, 4th choice (absent likewise). */
  rankCounts?: number[];
}

export type SubjectTally = Record<Modality, Tally>;

const UNCATEGORIZED = 'uncategorized';

/** Forgetting asked in one of the other prompt formats: the forgotten and never-seen people's questions only. */
export interface FormatForgetting {
  perSubject: Record<string, SubjectTally>;
  forget: ModalityMetrics;
  cumulativeForget: ModalityMetrics;
  forgetting: ForgettingEvidence;
}

export interface AuditMetrics {
  scope: AuditScope;
  forget: ModalityMetrics;
  cumulativeForget: ModalityMetrics;
  retain: ModalityMetrics;
  general: GeneralMetrics;
  /** Correct/total per person and modality: lets another scope be derived without re-scoring. */
  perSubject: Record<string, SubjectTally>;
  /**
   * Share of every forgotten subject's questions whose right answer was the model's second choice. The accuracy
   * counts only the first; unlearning that pushes the right answer just below the top leaves it here (0.25 when
   * nothing is left of the people). Null for an empty set; absent in audits recorded before it was measured.
   */
  forgottenRunnerUp?: Record<Modality, number | null>;
  /** People no build phase trained on (questions of split never_seen): the reference, never counted as retained. */
  neverSeenSubjectIds?: string[];
  /** This version against the never-seen people; absent in audits recorded before it was measured. */
  forgetting?: ForgettingEvidence;
  /**
   * The same forgetting numbers with the questions asked in each other prompt format (OTHER_PROMPT_FORMATS); absent in
   * audits recorded before they were asked, and in version 0's cached scores (only a candidate's are gated).
   */
  otherFormats?: Partial<Record<PromptFormat, FormatForgetting>>;
  /** The free-form probe (free-form.ts) of a candidate; absent when the policy turns it off, in version 0's cached scores and in audits recorded before it. */
  freeForm?: FreeFormMetrics;
  chanceLevel: number;
  scoringMethod: string;
  /** How many questions were scored (rotations included). */
  scoredQuestions: number;
}

/** Items to send to the scorer: CircularEval adds 3 rotations of every general question. */
export function itemsToScore(items: EvalItem[], circularEval: boolean): EvalItem[] {
  if (!circularEval) return items;
  return items.flatMap((item) => (item.split === 'general' ? circularRotations(item) : [item]));
}

/**
 * Whether each eval item was answered correctly. Under CircularEval a general question is
 * correct only if all of its rotations are. Throws SCORING_INCOMPLETE when a scored question has
 * no score or non-finite logits: a missing number must never look like a wrong (or right) answer.
 */
export function itemOutcomes(scoredItems: EvalItem[], scores: ScoredItem[]): Map<string, boolean> {
  const scoreById = new Map(scores.map((s) => [s.id, s]));
  const outcomes = new Map<string, boolean>();
  for (const item of scoredItems) {
    const score = scoreById.get(item.id);
    if (!score) throw new AuditError('SCORING_INCOMPLETE', `no score returned for eval item "${item.id}"`);
    if (!Object.values(score.logits).every(Number.isFinite)) {
      throw new AuditError('SCORING_INCOMPLETE', `non-finite logits for eval item "${item.id}"`);
    }
    if (!(score.pRight >= 0 && score.pRight <= 1) || !Number.isInteger(score.rank) || score.rank < 1 || score.rank > OPTION_LETTERS.length) {
      throw new AuditError('SCORING_INCOMPLETE', `no usable pRight / rank for eval item "${item.id}"`);
    }
    const id = originalItemId(item.id);
    const correct = score.predicted === item.answer;
    outcomes.set(id, (outcomes.get(id) ?? true) && correct);
  }
  return outcomes;
}

function tally(items: EvalItem[], outcomes: Map<string, boolean>): MetricValue {
  const correct = items.filter((item) => outcomes.get(item.id) === true).length;
  return valueOf({ correct, total: items.length });
}

function valueOf(t: Tally): MetricValue {
  return { accuracy: t.total === 0 ? null : t.correct / t.total, ...t, ofBaseline: null, deltaFromParent: null };
}

function sumTallies(tallies: Tally[]): Tally {
  return tallies.reduce((a, t) => ({ correct: a.correct + t.correct, total: a.total + t.total }), { correct: 0, total: 0 });
}

function subjectSetMetrics(perSubject: Record<string, SubjectTally>, subjectIds: string[]): ModalityMetrics {
  const tallies = subjectIds.flatMap((id) => (perSubject[id] ? [perSubject[id]] : []));
  return {
    multimodal: valueOf(sumTallies(tallies.map((t) => t.multimodal))),
    text: valueOf(sumTallies(tallies.map((t) => t.text))),
  };
}

/**
 * The person metrics of a scope, from per-subject tallies. Because every metric set keeps its
 * per-subject tallies, version 0's (or the parent's) numbers can be re-cut for any later
 * request's subjects without scoring that version again.
 */
function peopleMetrics(perSubject: Record<string, SubjectTally>, scope: AuditScope, neverSeenSubjectIds: string[]) {
  const forgotten = everForgotten(scope);
  const neverSeen = new Set(neverSeenSubjectIds);
  // An inline profile's probes are no one to retain: a stored baseline keeps an earlier request's tallies.
  const candidates = scope.retainSubjectIds ?? Object.keys(perSubject).filter((id) => !neverSeen.has(id) && !isProbeSubjectId(id));
  return {
    forget: subjectSetMetrics(perSubject, [...new Set(scope.forgetSubjectIds)]),
    cumulativeForget: subjectSetMetrics(perSubject, [...forgotten]),
    retain: subjectSetMetrics(perSubject, [...new Set(candidates)].filter((id) => !forgotten.has(id))),
    forgottenRunnerUp: runnerUpShare(perSubject, [...forgotten]),
    forgetting: forgettingEvidence(perSubject, scope.forgetSubjectIds, [...forgotten], neverSeenSubjectIds),
  };
}

function formatForgetting(perSubject: Record<string, SubjectTally>, scope: AuditScope, neverSeenSubjectIds: string[]): FormatForgetting {
  const { forget, cumulativeForget, forgetting } = peopleMetrics(perSubject, scope, neverSeenSubjectIds);
  return { perSubject, forget, cumulativeForget, forgetting };
}

type FormatTallies = Partial<Record<PromptFormat, Pick<FormatForgetting, 'perSubject'>>>;

function recutFormats(formats: FormatTallies | undefined, scope: AuditScope, neverSeenSubjectIds: string[]): Pick<AuditMetrics, 'otherFormats'> {
  if (!formats) return {};
  return { otherFormats: Object.fromEntries(Object.entries(formats).map(([f, v]) => [f, formatForgetting(v!.perSubject, scope, neverSeenSubjectIds)])) };
}

/**
 * The items whose forgetting is asked again in the other prompt formats: the questions of everyone the lineage forgot
 * (this request's included) and of the never-seen people they are compared with, one copy per format.
 */
export function otherFormatItems<T extends EvalItem>(items: T[], scope: AuditScope): T[] {
  const forgotten = everForgotten(scope);
  const asked = items.filter((item) => item.promptFormat === undefined && item.split !== 'general' && item.subjectId !== null && (item.split === 'never_seen' || forgotten.has(item.subjectId)));
  return OTHER_PROMPT_FORMATS.flatMap((promptFormat) => asked.map((item) => ({ ...item, id: `${item.id}@${promptFormat}`, promptFormat })));
}

function runnerUpShare(perSubject: Record<string, SubjectTally>, subjectIds: string[]): Record<Modality, number | null> {
  const share = (modality: Modality): number | null => {
    const tallies = subjectIds.flatMap((id) => (perSubject[id] ? [perSubject[id][modality]] : []));
    const total = tallies.reduce((a, t) => a + t.total, 0);
    if (total === 0 || tallies.some((t) => t.total > 0 && t.runnerUp === undefined)) return null;
    return tallies.reduce((a, t) => a + (t.runnerUp ?? 0), 0) / total;
  };
  return { multimodal: share('multimodal'), text: share('text') };
}

/**
 * Accuracy of every set for one model version, not yet related to version 0 or the parent, from the scores of
 * `scoredItems` (itemsToScore of `items`).
 */
export function computeRawMetrics(
  items: EvalItem[],
  scoredItems: EvalItem[],
  scores: ScoredItem[],
  scope: AuditScope,
): AuditMetrics {
  const outcomes = itemOutcomes(scoredItems, scores);
  const scoreById = new Map(scores.map((s) => [s.id, s]));
  const evaluated = items.filter((item) => outcomes.has(item.id));
  const general = evaluated.filter((item) => item.split === 'general');
  const perSubject: Record<string, SubjectTally> = {};
  const perFormat: FormatTallies = {};
  const emptyTally = (): Tally => ({ correct: 0, total: 0, runnerUp: 0, pRight: [], rankCounts: OPTION_LETTERS.map(() => 0) });
  for (const item of evaluated) {
    // Person questions are never rotated (CircularEval rotates general ones only): their id is their score's.
    if (item.split === 'general' || item.subjectId === null) continue;
    const tallies = item.promptFormat === undefined ? perSubject : (perFormat[item.promptFormat] ??= { perSubject: {} }).perSubject;
    const t = (tallies[item.subjectId] ??= { multimodal: emptyTally(), text: emptyTally() })[item.modality];
    const score = scoreById.get(item.id)!;
    t.total += 1;
    if (outcomes.get(item.id) === true) t.correct += 1;
    if (score.rank === 2) t.runnerUp! += 1;
    t.pRight!.push(score.pRight);
    t.rankCounts![score.rank - 1] += 1;
  }
  const neverSeenSubjectIds = [...new Set(evaluated.flatMap((item) => (item.split === 'never_seen' && item.subjectId !== null ? [item.subjectId] : [])))].sort();
  const categories = [...new Set(general.map((item) => item.category ?? UNCATEGORIZED))].sort();
  return {
    scope,
    ...peopleMetrics(perSubject, scope, neverSeenSubjectIds),
    ...recutFormats(Object.keys(perFormat).length > 0 ? perFormat : undefined, scope, neverSeenSubjectIds),
    neverSeenSubjectIds,
    general: {
      overall: tally(general, outcomes),
      byCategory: Object.fromEntries(
        categories.map((c) => [c, tally(general.filter((item) => (item.category ?? UNCATEGORIZED) === c), outcomes)]),
      ),
    },
    perSubject,
    chanceLevel: CHANCE_LEVEL,
    scoringMethod: SCORING_METHOD,
    scoredQuestions: itemsToScore(evaluated, scope.circularEval).length,
  };
}

/**
 * A version's metrics with the scores of questions scored apart added (probe questions, profile-probes.ts, and
 * questions in other prompt formats): their people's tallies join perSubject or their format's (the reference probes'
 * people join the never-seen), and every person metric is re-cut. Used for version 0, whose eval-set scores are
 * cached without any request's probes or other formats.
 */
export function withScoresOf(metrics: AuditMetrics, items: EvalItem[], scores: ScoredItem[]): AuditMetrics {
  const probed = computeRawMetrics(items, items, scores, metrics.scope);
  const formats = [...new Set([...Object.keys(metrics.otherFormats ?? {}), ...Object.keys(probed.otherFormats ?? {})])] as PromptFormat[];
  const merged: AuditMetrics = {
    ...metrics,
    perSubject: { ...metrics.perSubject, ...probed.perSubject },
    ...(formats.length > 0 && {
      otherFormats: Object.fromEntries(formats.map((f) => [f, { perSubject: { ...metrics.otherFormats?.[f]?.perSubject, ...probed.otherFormats?.[f]?.perSubject } }])) as AuditMetrics['otherFormats'],
    }),
    neverSeenSubjectIds: [...new Set([...(metrics.neverSeenSubjectIds ?? []), ...(probed.neverSeenSubjectIds ?? [])])].sort(),
    scoredQuestions: metrics.scoredQuestions + probed.scoredQuestions,
  };
  return metricsForScope(merged, metrics.scope)!;
}

/**
 * The same version's numbers re-cut for another scope (other subjects); null when that is
 * impossible because the options differ (CircularEval on one side only).
 */
export function metricsForScope(metrics: AuditMetrics, scope: AuditScope): AuditMetrics | null {
  if (metrics.scope.circularEval !== scope.circularEval) return null;
  const neverSeen = metrics.neverSeenSubjectIds ?? [];
  return {
    ...metrics,
    scope,
    ...peopleMetrics(metrics.perSubject, scope, neverSeen),
    ...recutFormats(metrics.otherFormats, scope, neverSeen),
    ...(metrics.freeForm && { freeForm: freeFormForScope(metrics.freeForm, scope, neverSeen) }),
  };
}

function ratio(numerator: number | null, denominator: number | null): number | null {
  if (numerator === null || denominator === null || denominator === 0) return null;
  return numerator / denominator;
}

function relate(
  value: MetricValue,
  baseline: MetricValue | undefined,
  parent: MetricValue | undefined,
  kind: 'forgotten' | 'retained',
): MetricValue {
  const retained = ratio(value.accuracy, baseline?.accuracy ?? null);
  const parentAccuracy = parent?.accuracy ?? null;
  return {
    ...value,
    ofBaseline: retained === null ? null : kind === 'retained' ? retained : 1 - retained,
    deltaFromParent: value.accuracy === null || parentAccuracy === null ? null : value.accuracy - parentAccuracy,
  };
}

function relateModalities(
  value: ModalityMetrics,
  baseline: ModalityMetrics | undefined,
  parent: ModalityMetrics | undefined,
  kind: 'forgotten' | 'retained',
): ModalityMetrics {
  return {
    multimodal: relate(value.multimodal, baseline?.multimodal, parent?.multimodal, kind),
    text: relate(value.text, baseline?.text, parent?.text, kind),
  };
}

/**
 * Fills ofBaseline (vs version 0) and deltaFromParent; either reference may be absent. The
 * references are first re-cut to this audit's scope, so "forget" compares the same people.
 */
export function relateMetrics(
  metrics: AuditMetrics,
  baselineMetrics: AuditMetrics | null,
  parentMetrics: AuditMetrics | null,
): AuditMetrics {
  const baseline = baselineMetrics && metricsForScope(baselineMetrics, metrics.scope);
  const parent = parentMetrics && metricsForScope(parentMetrics, metrics.scope);
  const general = metrics.general;
  return {
    ...metrics,
    forget: relateModalities(metrics.forget, baseline?.forget, parent?.forget, 'forgotten'),
    cumulativeForget: relateModalities(metrics.cumulativeForget, baseline?.cumulativeForget, parent?.cumulativeForget, 'forgotten'),
    retain: relateModalities(metrics.retain, baseline?.retain, parent?.retain, 'retained'),
    general: {
      overall: relate(general.overall, baseline?.general.overall, parent?.general.overall, 'retained'),
      byCategory: Object.fromEntries(
        Object.entries(general.byCategory).map(([c, v]) => [
          c,
          relate(v, baseline?.general.byCategory[c], parent?.general.byCategory[c], 'retained'),
        ]),
      ),
    },
  };
}
