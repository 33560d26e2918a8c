// When a request's personal data (its encrypted forget set) is purged. Each purge is a
// `forget_set.purged` event in the hash chain; the digest stays as evidence.
//
// - The decrypted forget-set file exists only while its step runs (see
//   src/orchestration/forget-set-files.service.ts).
// - CANCELED, REJECTED or FAILED: purged at once; nothing will use it again (a new request must be filed).
// - COMPLETED with a dataset subject: purged at once. The subject id and name stay on the request
//   row (dataset metadata, not submitted personal data), which is all a rollback (REOPENED), a
//   cumulative retrain and the cumulative audits need to redo or check it.
// - COMPLETED with an inline profile on a SEQUENTIAL lineage: kept, encrypted, for the lineage's
//   profileRetentionDays after completion, so that a rollback past its version can unlearn the person
//   again; the retention sweep purges it when the window ends. Later steps train on top of the adapter
//   that forgot it and never read it again. A rollback past a purged one is refused (CONFLICT), because
//   the person could not be forgotten again (see RequestOutcomes.validateRollback). A window of 0 days
//   purges at completion, as does a completion no rollback can undo (carried out by version 0: the model
//   showed no knowledge of the person, nothing was trained).
// - COMPLETED with an inline profile on a CUMULATIVE lineage: kept, encrypted, because every later
//   step retrains from the base on the union of all forget sets so far; there is no other copy.
//   It is purged when the request leaves that union (REJECTED/FAILED after a reopen).
import type { ModelLineage } from '../../lineages/domain/lineage';
import type { DeletionRequest } from './deletion-request';

export type RetentionOutcome = 'COMPLETED' | 'REJECTED' | 'FAILED' | 'CANCELED';

const DAY_MS = 86_400_000;

/**
 * Whether a request that just reached `outcome` is purged now (the rest waits for the retention window, or for good).
 * `rollbackCanUndo`: false for a completion by version 0, which no rollback reaches.
 */
export function shouldPurge(outcome: RetentionOutcome, request: DeletionRequest, lineage: Pick<ModelLineage, 'strategy' | 'profileRetentionDays'>, rollbackCanUndo: boolean): boolean {
  if (request.status !== outcome) return false;
  if (outcome !== 'COMPLETED' || request.datasetSubjectId !== null) return true;
  return lineage.strategy === 'SEQUENTIAL' && (lineage.profileRetentionDays === 0 || !rollbackCanUndo);
}

/**
 * Until when a COMPLETED request's forget set is kept for a rollback: its completion plus the lineage's window, for an
 * inline profile on a SEQUENTIAL lineage; null where retention does not end by time (purged at once, or kept while a
 * cumulative lineage retrains on it).
 */
export function keptForRollbackUntil(request: Pick<DeletionRequest, 'datasetSubjectId'>, completedAt: Date, lineage: Pick<ModelLineage, 'strategy' | 'profileRetentionDays'>): Date | null {
  if (request.datasetSubjectId !== null || lineage.strategy !== 'SEQUENTIAL' || lineage.profileRetentionDays === 0) return null;
  return new Date(completedAt.getTime() + lineage.profileRetentionDays * DAY_MS);
}
