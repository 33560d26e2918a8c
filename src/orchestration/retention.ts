// When a request's personal data (its encrypted forget set) is purged by the orchestration.
// Each purge is a `forget_set.purged` event in the hash chain; the digest stays as evidence.
//
// - The decrypted forget-set file exists only while its step runs (deleted at the end of the step,
//   and before a NEEDS_REVIEW wait, since no more training follows).
// - REJECTED or FAILED: purged at once; nothing will use it again (a new request must be filed).
// - COMPLETED with a dataset subject: purged at once. The subject id and name stay on the request
//   row (dataset metadata, not submitted personal data), which is all a rollback (REOPENED), a
//   cumulative retrain and the cumulative audits need to redo or check it.
// - COMPLETED with an inline profile on a SEQUENTIAL lineage: purged at once. Later steps train on
//   top of the adapter that forgot it and never read it again; the audits only check dataset
//   subjects. The price: a rollback that would undo it is refused (CONFLICT), because the person
//   could not be forgotten again (see ModelVersionsService.rollback).
// - COMPLETED with an inline profile on a CUMULATIVE lineage: kept, encrypted, because every later
//   step retrains from the base on the union of all forget sets so far; there is no other copy.
//   It is purged when the request leaves that union (REJECTED/FAILED after a reopen).
// CANCELED is the API's transition (it purges there if it chooses to).
import type { Strategy } from '../lineages/domain/lineage';
import type { DeletionRequest } from '../requests/domain/deletion-request';

export type RetentionOutcome = 'COMPLETED' | 'REJECTED' | 'FAILED';

export function shouldPurge(outcome: RetentionOutcome, request: DeletionRequest, strategy: Strategy): boolean {
  if (request.status !== outcome) return false;
  return outcome !== 'COMPLETED' || request.datasetSubjectId !== null || strategy === 'SEQUENTIAL';
}

/** The ids among `requestIds` whose personal data may go now, given the step's outcome and the lineage's strategy. */
export async function purgeAfter(outcome: RetentionOutcome, strategy: Strategy, requestIds: string[], find: (id: string) => Promise<DeletionRequest | null>): Promise<string[]> {
  const purgeable: string[] = [];
  for (const id of requestIds) {
    const request = await find(id);
    if (request && shouldPurge(outcome, request, strategy)) purgeable.push(id);
  }
  return purgeable;
}
