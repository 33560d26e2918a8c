// When a request's personal data (its encrypted forget set) is purged. Each purge is a
// `forget_set.purged` event in the hash chain; the digest stays as evidence.
//
// - The decrypted forget-set file exists only while its step runs (see
//   src/orchestration/forget-set-files.service.ts).
// - CANCELED, REJECTED or FAILED: purged at once; nothing will use it again (a new request must be filed).
// - COMPLETED with a dataset subject: purged at once. The subject id and name stay on the request
//   row (dataset metadata, not submitted personal data), which is all a rollback (REOPENED), a
//   cumulative retrain and the cumulative audits need to redo or check it.
// - COMPLETED with an inline profile on a SEQUENTIAL lineage: purged at once. Later steps train on
//   top of the adapter that forgot it and never read it again; the audits only check dataset
//   subjects. The price: a rollback that would undo it is refused (CONFLICT), because the person
//   could not be forgotten again (see RequestOutcomes.validateRollback).
// - COMPLETED with an inline profile on a CUMULATIVE lineage: kept, encrypted, because every later
//   step retrains from the base on the union of all forget sets so far; there is no other copy.
//   It is purged when the request leaves that union (REJECTED/FAILED after a reopen).
import type { Strategy } from '../../lineages/domain/lineage';
import type { DeletionRequest } from './deletion-request';

export type RetentionOutcome = 'COMPLETED' | 'REJECTED' | 'FAILED' | 'CANCELED';

export function shouldPurge(outcome: RetentionOutcome, request: DeletionRequest, strategy: Strategy): boolean {
  if (request.status !== outcome) return false;
  return outcome !== 'COMPLETED' || request.datasetSubjectId !== null || strategy === 'SEQUENTIAL';
}
