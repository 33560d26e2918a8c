// What a model version still gives away about forgotten people, measured against people it never saw
// (see docs/architecture.md, the audit): TOFU's forget quality, a loss attack's AUC, the ranks of the right
// answers and accuracy below chance, per modality. Pure: computed from the per-subject tallies, so any
// scope can be re-cut without scoring again.
import { CHANCE_LEVEL, Modality, MODALITIES, OPTION_LETTERS } from './eval-item';
import { isProbeSubjectId } from './profile-probes';
import { AucEstimate, belowChance, BelowChance, KsTest, ksTwoSample, lossAttackAuc, rankShares } from './forgetting-statistics';

/** One forgotten set in one modality against the never-seen reference on the same model version. */
export interface SetEvidence {
  /** Questions of the forgotten people. */
  n: number;
  /** Questions of the never-seen people. */
  referenceN: number;
  /** KS test of the forgotten questions' pRight against the never-seen ones'; its pValue is the forget quality. */
  forgetQuality: KsTest | null;
  miaAuc: AucEstimate | null;
  /** Shares of the right answer being the model's 1st..4th choice. */
  rankShares: number[] | null;
  /** Accuracy against chance (binomial lower tail); null without questions. */
  belowChance: BelowChance | null;
}

export interface ForgettingEvidence {
  forget: Record<Modality, SetEvidence>;
  cumulativeForget: Record<Modality, SetEvidence>;
  /** The never-seen people the forgotten are compared with (anyone forgotten left out). */
  reference: { subjects: number; questions: Record<Modality, number> };
  /** Why forget quality and the AUC could not be measured; null when they were. */
  missingReference: string | null;
}

/** What a person's questions in one modality left behind, as the tallies store it. */
export interface QuestionScores {
  total: number;
  correct: number;
  /** pRight of each question (absent in audits recorded before it was measured). */
  pRight?: number[];
  /** How many questions had the right answer as the model's 1st..4th choice. */
  rankCounts?: number[];
}

export const NO_NEVER_SEEN_PEOPLE =
  'the dataset names no never-seen people (subjects with knowledge NEVER_SEEN in lethe/subjects.json and their questions of split never_seen): forget quality and the membership-inference AUC have no reference, so their rules cannot pass';

const NO_PROBABILITIES =
  'this audit has no per-question probabilities (recorded before pRight was measured): forget quality and the membership-inference AUC cannot be computed';

function pooled(tallies: QuestionScores[]): { pRight: number[] | null; rankCounts: number[] | null; correct: number; total: number } {
  const withQuestions = tallies.filter((t) => t.total > 0);
  const complete = withQuestions.every((t) => t.pRight !== undefined && t.rankCounts !== undefined);
  return {
    pRight: complete ? withQuestions.flatMap((t) => t.pRight!) : null,
    rankCounts: complete ? OPTION_LETTERS.map((_, r) => withQuestions.reduce((a, t) => a + t.rankCounts![r], 0)) : null,
    correct: withQuestions.reduce((a, t) => a + t.correct, 0),
    total: withQuestions.reduce((a, t) => a + t.total, 0),
  };
}

function setEvidence(forgotten: QuestionScores[], reference: QuestionScores[]): SetEvidence {
  const f = pooled(forgotten);
  const r = pooled(reference);
  const comparable = f.pRight !== null && f.pRight.length > 0 && r.pRight !== null && r.pRight.length > 0;
  return {
    n: f.total,
    referenceN: r.total,
    forgetQuality: comparable ? ksTwoSample(f.pRight!, r.pRight!) : null,
    miaAuc: comparable ? lossAttackAuc(f.pRight!, r.pRight!) : null,
    rankShares: f.rankCounts && rankShares(f.rankCounts),
    belowChance: f.total === 0 ? null : belowChance(f.correct, f.total, CHANCE_LEVEL),
  };
}

/**
 * The evidence for this request's forgotten people and for everyone the lineage forgot, from the
 * per-subject, per-modality question scores of one version.
 */
export function forgettingEvidence(
  perSubject: Record<string, Record<Modality, QuestionScores>>,
  forgetSubjectIds: string[],
  everForgottenIds: string[],
  neverSeenSubjectIds: string[],
): ForgettingEvidence {
  const forgotten = new Set(everForgottenIds);
  const everyReference = neverSeenSubjectIds.filter((id) => !forgotten.has(id) && perSubject[id]);
  // Each kind of question has its own reference, asked the same way: dataset people are compared with the
  // never-seen people's eval questions, inline profiles with never-seen people asked by probes (profile-probes.ts).
  const referenceOf = (ids: string[]) => {
    const probed = ids.some(isProbeSubjectId);
    const fromDataset = ids.some((id) => !isProbeSubjectId(id));
    return everyReference.filter((id) => (isProbeSubjectId(id) ? probed : fromDataset));
  };
  const tallies = (ids: string[], modality: Modality) => [...new Set(ids)].flatMap((id) => (perSubject[id] ? [perSubject[id][modality]] : []));
  const perModality = (ids: string[]) => {
    const reference = referenceOf(ids);
    return Object.fromEntries(MODALITIES.map((m) => [m, setEvidence(tallies(ids, m), tallies(reference, m))])) as Record<Modality, SetEvidence>;
  };
  // The reference named in reports: this request's (everyone's when the request has no questions of its own).
  const reference = forgetSubjectIds.length > 0 ? referenceOf(forgetSubjectIds) : everyReference;
  const questions = Object.fromEntries(MODALITIES.map((m) => [m, tallies(reference, m).reduce((a, t) => a + t.total, 0)])) as Record<Modality, number>;
  const evidence = { forget: perModality(forgetSubjectIds), cumulativeForget: perModality(everForgottenIds) };
  const hasReference = MODALITIES.some((m) => questions[m] > 0);
  const unmeasured = MODALITIES.some((m) => [...tallies(everForgottenIds, m), ...tallies(everyReference, m)].some((t) => t.total > 0 && t.pRight === undefined));
  return {
    ...evidence,
    reference: { subjects: reference.length, questions },
    missingReference: !hasReference ? NO_NEVER_SEEN_PEOPLE : unmeasured ? NO_PROBABILITIES : null,
  };
}
