// The one place that decides what each role sees of a compliance report (JSON, HTML and the
// GraphQL auditReport are all cut from it). AUDITORs and OPERATORs keep the full report; a
// REQUESTER gets its own request, its own person and aggregates: who else asked to be forgotten,
// and how the model answers about them, is other people's personal data.
import { canSeeEverything, type Principal } from '../../auth/domain/principal';
import type { Redactor } from '../../common/subject-redaction';
import { AuditMetrics } from '../domain/metrics';
import { ComplianceReport } from '../domain/report';

/** Absolute server paths in error messages: the file layout of the host is for OPERATORs. */
const SERVER_PATH = /(?:[A-Za-z]:)?(?:[\\/][\w.@+-]+){2,}[\\/]?/g;

export interface RequesterOwn {
  requestId: string;
  datasetSubjectId: string | null;
  redact: Redactor;
}

/** Every text of the report that the workflows or the gate wrote and that may name people. */
export function reportTexts(report: ComplianceReport): Array<string | null> {
  return [
    report.request?.statusReason ?? null,
    ...(report.audit?.reasons ?? []),
    report.audit?.auditError?.message ?? null,
    ...report.attempts.flatMap((a) => a.reasons),
  ];
}

function ownMetrics(metrics: AuditMetrics | null, own: ReadonlySet<string | null>): AuditMetrics | null {
  if (!metrics) return null;
  const keep = (ids: string[]) => ids.filter((id) => own.has(id));
  return {
    ...metrics,
    scope: {
      ...metrics.scope,
      forgetSubjectIds: keep(metrics.scope.forgetSubjectIds),
      cumulativeForgetSubjectIds: keep(metrics.scope.cumulativeForgetSubjectIds),
      retainSubjectIds: metrics.scope.retainSubjectIds && keep(metrics.scope.retainSubjectIds),
    },
    perSubject: Object.fromEntries(Object.entries(metrics.perSubject).filter(([id]) => own.has(id))),
  };
}

export function reportViewFor(report: ComplianceReport, principal: Principal, requester?: RequesterOwn): ComplianceReport {
  if (principal.role === 'OPERATOR') return report;
  const audit = report.audit && {
    ...report.audit,
    auditError: report.audit.auditError && { ...report.audit.auditError, message: report.audit.auditError.message.replace(SERVER_PATH, '[server path]') },
  };
  if (canSeeEverything(principal)) return { ...report, audit };
  if (!requester) throw new Error('a REQUESTER sees a report only through one of its requests');
  const { redact } = requester;
  const own = new Set([requester.datasetSubjectId]);
  return {
    ...report,
    request: report.request && { ...report.request, statusReason: redact(report.request.statusReason) },
    versions: report.versions.map((v) => ({
      ...v,
      requestIds: v.requestIds.filter((id) => id === requester.requestId),
      reforgottenSubjectIds: v.reforgottenSubjectIds.filter((id) => own.has(id)),
    })),
    audit: audit && {
      ...audit,
      reasons: audit.reasons.map((r) => redact(r)!),
      metrics: ownMetrics(audit.metrics, own),
      baseline: ownMetrics(audit.baseline, own),
      auditError: audit.auditError && { ...audit.auditError, message: redact(audit.auditError.message)! },
    },
    attempts: report.attempts.map((a) => ({ ...a, reasons: a.reasons.map((r) => redact(r)!) })),
  };
}
