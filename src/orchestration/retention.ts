// When a request's personal data (its encrypted forget set) is purged by the orchestration.
//
// - The decrypted forget-set file exists only while its step runs (deleted at the end of the step,
//   and before a NEEDS_REVIEW wait, since no more training follows).
// - REJECTED or FAILED: purged at once; nothing will use it again (a new request must be filed).
// - COMPLETED with a dataset subject: purged at once. The subject id and name stay on the request
//   row (dataset metadata, not submitted personal data), which is all a rollback (REOPENED) or a
//   cumulative lineage's union training needs to redo it, and all the cumulative audits use.
// - COMPLETED with an inline profile: kept, encrypted, because a rollback can reopen the request
//   and cumulative lineages retrain on the union; there is no other copy of those facts/images.
// CANCELED is the API's transition (it purges there if it chooses to).
import type { DeletionRequest } from '../requests/domain/deletion-request';

export type RetentionOutcome = 'COMPLETED' | 'REJECTED' | 'FAILED';

export function shouldPurge(outcome: RetentionOutcome, request: DeletionRequest): boolean {
  if (request.status !== outcome) return false;
  return outcome !== 'COMPLETED' || request.datasetSubjectId !== null;
}

/** The ids among `requestIds` whose personal data may go now, given the step's outcome. */
export async function purgeAfter(outcome: RetentionOutcome, requestIds: string[], find: (id: string) => Promise<DeletionRequest | null>): Promise<string[]> {
  const purgeable: string[] = [];
  for (const id of requestIds) {
    const request = await find(id);
    if (request && shouldPurge(outcome, request)) purgeable.push(id);
  }
  return purgeable;
}
