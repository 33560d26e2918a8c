// The forgetting part of a compliance report: the evidence of the audited version and of version 0,
// the findings at the policy's significance, and the pRight values a chart of them needs. Pure.
import { Modality, MODALITIES } from './eval-item';
import { ForgettingEvidence } from './forgetting-evidence';
import { noKnowledgeFound } from './forgetting-rules';
import { GatePolicy } from './gate-policy';
import { everForgotten } from './audit-scope';
import { AuditMetrics } from './metrics';

export type PerModality<T> = Record<Modality, T>;

export interface PRightSample {
  /** This request's people. */
  forgotten: number[];
  /** Everyone the lineage forgot, this request's people included. */
  cumulativeForgotten: number[];
  /** The never-seen reference. */
  neverSeen: number[];
}

export interface ForgettingReport {
  /** The audited version against the never-seen people; null for audits recorded before it was measured. */
  evidence: ForgettingEvidence | null;
  /** Version 0 on the same people: what there was to forget. */
  versionZero: ForgettingEvidence | null;
  /** Version 0's accuracy on this request's questions. */
  knowledgeBefore: PerModality<number | null>;
  /** Version 0 answered this request's people like people it never saw (every forgetting rule passes on it). */
  noKnowledgeFound: boolean;
  /** Accuracy significantly below chance at the policy's significance; null without the numbers. */
  belowChance: Record<'forget' | 'cumulativeForget', PerModality<boolean | null>>;
  significance: number | null;
  /** The audited version's pRight per question, for the chart. */
  pRight: PerModality<PRightSample>;
}

function perModality<T>(f: (m: Modality) => T): PerModality<T> {
  return Object.fromEntries(MODALITIES.map((m) => [m, f(m)])) as PerModality<T>;
}

function pRightOf(metrics: AuditMetrics, subjectIds: Iterable<string>, modality: Modality): number[] {
  return [...new Set(subjectIds)].flatMap((id) => metrics.perSubject[id]?.[modality].pRight ?? []);
}

export function forgettingReport(metrics: AuditMetrics | null, baseline: AuditMetrics | null, policy: GatePolicy | null): ForgettingReport | null {
  if (!metrics) return null;
  const evidence = metrics.forgetting ?? null;
  const significance = policy?.forget.significance ?? null;
  const below = (set: 'forget' | 'cumulativeForget') =>
    perModality((m) => {
      const b = evidence?.[set][m].belowChance;
      return b && significance !== null ? b.pValue < significance : null;
    });
  const forgotten = everForgotten(metrics.scope);
  const neverSeen = (metrics.neverSeenSubjectIds ?? []).filter((id) => !forgotten.has(id));
  return {
    evidence,
    versionZero: baseline?.forgetting ?? null,
    knowledgeBefore: perModality((m) => baseline?.forget[m].accuracy ?? null),
    noKnowledgeFound: noKnowledgeFound(baseline, policy),
    belowChance: { forget: below('forget'), cumulativeForget: below('cumulativeForget') },
    significance,
    pRight: perModality((m) => ({
      forgotten: pRightOf(metrics, metrics.scope.forgetSubjectIds, m),
      cumulativeForgotten: pRightOf(metrics, forgotten, m),
      neverSeen: pRightOf(metrics, neverSeen, m),
    })),
  };
}
