import { LineageError, ModelVersion } from './lineage';

/** What promoting `number` changes: the candidate becomes champion, the previous champion is superseded. */
export function planPromotion(versions: ModelVersion[], championNumber: number | null, number: number): { promote: ModelVersion; supersede: ModelVersion | null } {
  const promote = versions.find((v) => v.number === number);
  if (!promote) throw new LineageError('NOT_FOUND', `version ${number} does not exist`, 'version');
  if (promote.status !== 'CANDIDATE') throw new LineageError('CONFLICT', `version ${number} is ${promote.status}, only a CANDIDATE can be promoted`, 'version');
  const supersede = championNumber === null ? null : (versions.find((v) => v.number === championNumber) ?? null);
  return { promote, supersede };
}

export function assertCanReject(version: ModelVersion): void {
  if (version.status !== 'CANDIDATE') throw new LineageError('CONFLICT', `version ${version.number} is ${version.status}, only a CANDIDATE can be rejected`, 'version');
}

/**
 * Rollback target rules: it must be an earlier version that was once champion (PROMOTED or
 * SUPERSEDED). Every later version that is not already REJECTED is rolled back.
 */
export function planRollback(versions: ModelVersion[], championNumber: number | null, toVersion: number): { target: ModelVersion; rollBack: ModelVersion[] } {
  const target = versions.find((v) => v.number === toVersion);
  if (!target) throw new LineageError('BAD_USER_INPUT', `version ${toVersion} does not exist`, 'toVersion');
  if (championNumber === null || toVersion >= championNumber) {
    throw new LineageError('BAD_USER_INPUT', `must be earlier than the champion (version ${championNumber})`, 'toVersion');
  }
  if (target.status !== 'SUPERSEDED' && target.status !== 'PROMOTED') {
    throw new LineageError('BAD_USER_INPUT', `version ${toVersion} is ${target.status}; only a version that was champion can be restored`, 'toVersion');
  }
  const rollBack = versions.filter((v) => v.number > toVersion && v.status !== 'REJECTED' && v.status !== 'ROLLED_BACK');
  return { target, rollBack };
}
