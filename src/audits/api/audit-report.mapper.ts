import { DEFAULT_PROMPT_FORMAT } from '../domain/eval-item';
import { ForgettingEvidence } from '../domain/forgetting-evidence';
import { AuditMetrics, ModalityMetrics } from '../domain/metrics';
import { ComplianceReport } from '../domain/report';
import { ForgettingReport } from '../domain/forgetting-report';
import { AuditBaselineModel, AuditReportModel, GateDecisionEnum, ModalityAccuracyModel, PromptFormatForgettingModel } from './audit-report.model';

const accuracies = (m: ModalityMetrics | undefined): ModalityAccuracyModel => ({
  multimodal: m?.multimodal.accuracy ?? null,
  text: m?.text.accuracy ?? null,
});

function baselineOf(m: AuditMetrics): AuditBaselineModel {
  return { forget: accuracies(m.forget), cumulativeForget: accuracies(m.cumulativeForget), retain: accuracies(m.retain), general: m.general.overall.accuracy };
}

/** This request's forgetting numbers (forgetting-report.ts); all null for audits recorded before they were measured. */
function forgettingFields(f: ForgettingReport | null): Pick<AuditReportModel, 'forgetQuality' | 'miaAuc' | 'rankShares' | 'belowChance' | 'knowledgeBefore' | 'noKnowledgeFound'> {
  const forget = f?.evidence?.forget;
  return {
    forgetQuality: { multimodal: forget?.multimodal.forgetQuality?.pValue ?? null, text: forget?.text.forgetQuality?.pValue ?? null },
    miaAuc: { multimodal: forget?.multimodal.miaAuc?.auc ?? null, text: forget?.text.miaAuc?.auc ?? null },
    rankShares: { multimodal: forget?.multimodal.rankShares ?? null, text: forget?.text.rankShares ?? null },
    belowChance: { multimodal: f?.belowChance.forget.multimodal ?? null, text: f?.belowChance.forget.text ?? null },
    knowledgeBefore: { multimodal: f?.knowledgeBefore.multimodal ?? null, text: f?.knowledgeBefore.text ?? null },
    noKnowledgeFound: f?.noKnowledgeFound ?? false,
  };
}

function formatForgetting(format: string, forget: ModalityMetrics, evidence: ForgettingEvidence | undefined): PromptFormatForgettingModel {
  const e = evidence?.forget;
  return {
    format,
    forget: accuracies(forget),
    forgetQuality: { multimodal: e?.multimodal.forgetQuality?.pValue ?? null, text: e?.text.forgetQuality?.pValue ?? null },
    miaAuc: { multimodal: e?.multimodal.miaAuc?.auc ?? null, text: e?.text.miaAuc?.auc ?? null },
  };
}

/** Every prompt format the audit asked this request's people in, the default first. */
function promptFormats(m: AuditMetrics | null): PromptFormatForgettingModel[] {
  if (!m?.otherFormats) return [];
  return [
    formatForgetting(DEFAULT_PROMPT_FORMAT, m.forget, m.forgetting),
    ...Object.entries(m.otherFormats).map(([format, other]) => formatForgetting(format, other!.forget, other!.forgetting)),
  ];
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
    ...forgettingFields(audit.forgetting),
    promptFormats: promptFormats(m ?? null),
    baseline: audit.baseline ? baselineOf(audit.baseline) : null,
    gatePolicyVersion: audit.gatePolicy?.version ?? null,
    htmlUrl: report.links.html,
    jsonUrl: report.links.json,
  };
}
