// Which versions may leave the service as an answering model: those the gate promoted. A candidate was never
// (or not yet) audited to pass, a REJECTED one failed, a ROLLED_BACK one was withdrawn by an operator.
import type { ModelVersion, VersionStatus } from '../../lineages/domain/lineage';

export const SERVABLE_STATUSES: readonly VersionStatus[] = ['PROMOTED', 'SUPERSEDED'];

export function isServable(version: ModelVersion): boolean {
  return SERVABLE_STATUSES.includes(version.status);
}
