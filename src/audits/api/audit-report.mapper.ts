import { AuditMetrics, ModalityMetrics } from '../domain/metrics';
import { ComplianceReport } from '../domain/report';
import { AuditBaselineModel, AuditReportModel, GateDecisionEnum, ModalityAccuracyModel } from './audit-report.model';

const accuracies = (m: ModalityMetrics | undefined): ModalityAccuracyModel => ({
  multimodal: m?.multimodal.accuracy ?? null,
  text: m?.text.accuracy ?? null,
});

function baselineOf(m: AuditMetrics): AuditBaselineModel {
  return { forget: accuracies(m.forget), cumulativeForget: accuracies(m.cumulativeForget), retain: accuracies(m.retain), general: m.general.overall.accuracy };
}

/** The core numbers of a request's report; null when nothing was audited for it yet. */
export function toAuditReportModel(report: ComplianceReport): AuditReportModel | null {
  const audit = report.audit;
  if (!audit || !report.request) return null;
  const m = audit.metrics;
  return {
    requestId: report.request.id,
    lineage: report.lineage,
    versionNumber: audit.versionNumber,
    attempt: audit.attempt,
    decision: audit.decision as GateDecisionEnum,
    reasons: audit.reasons,
    forget: accuracies(m?.forget),
    cumulativeForget: accuracies(m?.cumulativeForget),
    retain: accuracies(m?.retain),
    general: m?.general.overall.accuracy ?? null,
    baseline: audit.baseline ? baselineOf(audit.baseline) : null,
    gatePolicyVersion: audit.gatePolicy?.version ?? null,
    htmlUrl: report.links.html,
    jsonUrl: report.links.json,
  };
}
