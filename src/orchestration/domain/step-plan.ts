// Pure pieces of planning a step: no I/O, so the rules read in one place and test alone.
import crypto from 'node:crypto';
import { isAuditMetrics } from '../../audits/domain/audit-input';
import type { AuditMetrics, SubjectTally } from '../../audits/domain/metrics';
import type { ModelVersion } from '../../lineages/domain/lineage';
import type { DeletionRequest } from '../../requests/domain/deletion-request';
import type { FileRef } from '../../common/gpu-contracts';

export function subjectIdsOf(requests: readonly DeletionRequest[]): string[] {
  return requests.map((r) => r.datasetSubjectId).filter((id): id is string => id !== null);
}

export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** A stable seed per lineage: the same forget set on the same parent trains the same adapter. */
export function seedOf(lineage: string): number {
  return crypto.createHash('sha256').update(lineage).digest().readUInt32BE(0) & 0x7fffffff;
}

/**
 * Each earlier person at the latest promoted or superseded version that trained on them (their request's, or one
 * whose re-forget passes did), so later operations hold them where they were last forgotten. Rolled-back versions
 * do not count: a rollback reopens their requests and undoes their passes.
 */
export function heldAtVersions(versions: readonly ModelVersion[], earlier: readonly DeletionRequest[]): Map<string, FileRef> {
  const forgotten = new Set(subjectIdsOf(earlier));
  const heldAt = new Map<string, FileRef>();
  for (const version of versions) {
    if (!version.adapterUri || !version.adapterSha256 || !['PROMOTED', 'SUPERSEDED'].includes(version.status)) continue;
    const own = subjectIdsOf(earlier.filter((r) => version.requestIds.includes(r.id)));
    const reforgotten = version.reforgottenSubjectIds.filter((id) => forgotten.has(id));
    for (const subject of [...own, ...reforgotten]) heldAt.set(subject, { path: version.adapterUri, sha256: version.adapterSha256 });
  }
  return heldAt;
}

/** What recordAudit stores per attempt (the audit activity's whole output), read back. */
export interface StoredAudit {
  /** Whole metrics documents only; anything else counts as absent (the audit ignores it too). */
  metrics: AuditMetrics | null;
  baseline: AuditMetrics | null;
  /** The per-person tallies alone, which is all a re-forget pass reads. */
  perSubject: Record<string, SubjectTally> | null;
}

export function storedAudit(stored: unknown): StoredAudit {
  const doc = isObject(stored) ? stored : {};
  const perSubject = isObject(doc.metrics) && isObject(doc.metrics.perSubject) ? (doc.metrics.perSubject as Record<string, SubjectTally>) : null;
  return { metrics: isAuditMetrics(doc.metrics) ? doc.metrics : null, baseline: isAuditMetrics(doc.baseline) ? doc.baseline : null, perSubject };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
