// Runtime validation of the audit activity's input: it crosses a process boundary as JSON.
import { AuditInput, InlineProfilesRef } from './audit-activity';
import { AuditError } from './audit-error';
import { AuditMetrics } from './metrics';

function fail(field: string, message: string): never {
  throw new AuditError('INVALID_AUDIT_INPUT', message, field);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(doc: Record<string, unknown>, field: string): string {
  const v = doc[field];
  if (typeof v !== 'string' || v.length === 0) fail(field, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function stringArray(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) fail(field, 'must be an array of subject ids');
  value.forEach((v, i) => {
    if (typeof v !== 'string' || v.length === 0) fail(`${field}[${i}]`, `must be a non-empty string, got ${JSON.stringify(v)}`);
  });
  return value as string[];
}

/** The inline profiles to probe, or null for none (absent, null or no request ids). */
function parseInlineProfiles(value: unknown): InlineProfilesRef | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) fail('inlineProfiles', 'must be {forgetSetFile, requestIds} or null');
  const requestIds = stringArray(value.requestIds, 'inlineProfiles.requestIds');
  if (requestIds.length === 0) return null;
  const file = value.forgetSetFile;
  if (typeof file !== 'string' || file.length === 0) fail('inlineProfiles.forgetSetFile', `must be a non-empty string, got ${JSON.stringify(file)}`);
  return { forgetSetFile: file, requestIds };
}

/** True for a metrics document this code can relate to (it has the per-subject tallies). */
export function isAuditMetrics(value: unknown): value is AuditMetrics {
  return (
    isObject(value) &&
    isObject(value.scope) &&
    typeof value.scope.circularEval === 'boolean' &&
    isObject(value.perSubject) &&
    isObject(value.general) &&
    isObject(value.general.overall)
  );
}

/**
 * Checks the shape of everything but the gate policy (parsed separately, so an invalid policy
 * still yields a REVIEW result). baseline / parentMetrics that are not metrics documents
 * are reported in `ignored` and treated as absent: version 0 is recomputed, deltas are left out.
 */
export function parseAuditInput(input: unknown): { input: AuditInput; ignored: string[] } {
  if (!isObject(input)) fail('input', 'must be an object');
  const adapter = input.adapter;
  if (adapter !== null) {
    if (!isObject(adapter)) fail('adapter', 'must be {path, sha256} or null');
    nonEmptyString(adapter, 'path');
    if (typeof adapter.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(adapter.sha256)) {
      fail('adapter.sha256', `must be 64 lowercase hex digits, got ${JSON.stringify(adapter.sha256)}`);
    }
  }
  const versionNumber = input.versionNumber;
  if (typeof versionNumber !== 'number' || !Number.isInteger(versionNumber) || versionNumber < 0) {
    fail('versionNumber', `must be an integer >= 0, got ${JSON.stringify(versionNumber)}`);
  }
  if (versionNumber > 0 && adapter === null) fail('adapter', `is required for version ${versionNumber} (only version 0 has none)`);
  const attempt = input.attempt;
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1) fail('attempt', `must be an integer >= 1, got ${JSON.stringify(attempt)}`);
  const forgetSubjectIds = stringArray(input.forgetSubjectIds, 'forgetSubjectIds');
  const inlineProfiles = parseInlineProfiles(input.inlineProfiles);
  if (versionNumber > 0 && forgetSubjectIds.length === 0 && !inlineProfiles) {
    fail('forgetSubjectIds', 'must name at least one subject (or inlineProfiles a request) for a candidate version');
  }
  const retain = input.retainSubjectIds;
  const ignored: string[] = [];
  const metricsOrNull = (field: 'baseline' | 'parentMetrics'): AuditMetrics | null => {
    const v = input[field];
    if (v === null || v === undefined) return null;
    if (isAuditMetrics(v)) return v;
    ignored.push(field);
    return null;
  };
  return {
    input: {
      lineage: nonEmptyString(input, 'lineage'),
      versionNumber,
      exportDir: nonEmptyString(input, 'exportDir'),
      modelDir: nonEmptyString(input, 'modelDir'),
      datasetDir: nonEmptyString(input, 'datasetDir'),
      adapter: adapter === null ? null : { path: adapter.path as string, sha256: adapter.sha256 as string },
      forgetSubjectIds,
      inlineProfiles,
      cumulativeForgetSubjectIds: stringArray(input.cumulativeForgetSubjectIds, 'cumulativeForgetSubjectIds'),
      retainSubjectIds: retain === undefined || retain === null ? null : stringArray(retain, 'retainSubjectIds'),
      baseline: metricsOrNull('baseline'),
      parentMetrics: metricsOrNull('parentMetrics'),
      gatePolicy: input.gatePolicy,
      attempt: attempt as number,
    },
    ignored,
  };
}
