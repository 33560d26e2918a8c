// PULSE's target selection for pre-trained knowledge: forget targets are chosen by behaviour,
// as the people the base model answers best (the paper took the top 45 of 153 celebrities by
// LLaVA's accuracy, then split them into unlearn and retain sets).
import { AuditMetrics } from './metrics';

export interface RankedSubject {
  subjectId: string;
  accuracy: number;
  correct: number;
  total: number;
}

/**
 * Subjects ranked by the base model's accuracy over both modalities, best first; ties are broken
 * by subject id so the selection is deterministic. Subjects without questions are left out.
 */
export function rankSubjectsByAccuracy(baseMetrics: AuditMetrics, candidateSubjectIds?: string[]): RankedSubject[] {
  const candidates = candidateSubjectIds ?? Object.keys(baseMetrics.perSubject);
  return candidates
    .flatMap((subjectId) => {
      const t = baseMetrics.perSubject[subjectId];
      if (!t) return [];
      const correct = t.multimodal.correct + t.text.correct;
      const total = t.multimodal.total + t.text.total;
      return total === 0 ? [] : [{ subjectId, accuracy: correct / total, correct, total }];
    })
    .sort((a, b) => b.accuracy - a.accuracy || a.subjectId.localeCompare(b.subjectId));
}

/** The k subjects the base model knows best (fewer if fewer have questions). */
export function selectPretrainedTargets(baseMetrics: AuditMetrics, k: number, candidateSubjectIds?: string[]): RankedSubject[] {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`k: must be a non-negative integer, got ${k}`);
  return rankSubjectsByAccuracy(baseMetrics, candidateSubjectIds).slice(0, k);
}
