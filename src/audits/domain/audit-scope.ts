// Which people an audit's numbers are about. Pure.

/** Which subjects and options the numbers were computed for; baselines are only comparable within one scope. */
export interface AuditScope {
  forgetSubjectIds: string[];
  /** Every subject the lineage has forgotten so far, this request's included. */
  cumulativeForgetSubjectIds: string[];
  /** null: every person in the eval set who was never forgotten. */
  retainSubjectIds: string[] | null;
  circularEval: boolean;
}

/** Everyone the lineage has forgotten, this request's people included. */
export function everForgotten(scope: Pick<AuditScope, 'forgetSubjectIds' | 'cumulativeForgetSubjectIds'>): Set<string> {
  return new Set([...scope.cumulativeForgetSubjectIds, ...scope.forgetSubjectIds]);
}
