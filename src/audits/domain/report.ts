// Compliance reports: one document per request or per model version, for machines (JSON) and,
// rendered by src/audits/report, for people (HTML). Built from plain facts; pure.
import { AuditResult } from './audit-activity';
import { GateCheck, GateDecision } from './decision';
import { ForgettingReport, forgettingReport } from './forgetting-report';
import { GatePolicy } from './gate-policy';
import { AuditMetrics } from './metrics';

export interface RequestFacts {
  id: string;
  requester: string;
  legalBasis: string;
  status: string;
  statusReason: string | null;
  receivedAt: Date;
  dueAt: Date;
  /** When the request reached COMPLETED; null while it has not. */
  completedAt: Date | null;
  /** sha256 of the forget set; the content itself never appears in a report. */
  forgetSetDigest: string | null;
  forgetSetPurgedAt: Date | null;
  /** Not purged yet: kept encrypted until then so that a rollback can unlearn the person again; purged then. */
  forgetSetKeptUntil: Date | null;
}

export interface VersionFacts {
  number: number;
  parentNumber: number | null;
  status: string;
  adapterSha256: string | null;
  method: string | null;
  requestIds: string[];
  /** Dataset subjects the re-forget passes leading to this version trained on; empty without re-forgetting. */
  reforgottenSubjectIds: string[];
  createdAt: Date;
}

/** One stored audit: the activity's result as recorded by the control plane. */
export interface StoredAudit {
  versionNumber: number;
  requestId: string | null;
  attempt: number;
  recordedAt: Date;
  result: Pick<AuditResult, 'decision' | 'reasons' | 'metrics'> & Partial<Pick<AuditResult, 'baseline' | 'checks' | 'gatePolicy' | 'auditError'>>;
}

export type DueState = 'MET' | 'MISSED' | 'PENDING' | 'OVERDUE';

export interface SustainabilityPoint {
  version: number;
  status: string;
  cumulativeForget: { multimodal: number | null; text: number | null };
  retain: { multimodal: number | null; text: number | null };
  general: number | null;
}

export interface ReportAudit {
  versionNumber: number;
  attempt: number;
  recordedAt: string;
  decision: GateDecision;
  reasons: string[];
  checks: GateCheck[];
  metrics: AuditMetrics | null;
  baseline: AuditMetrics | null;
  /** The policy the decision applied (as recorded with the audit). */
  gatePolicy: GatePolicy | null;
  /** The policy's rules that pick which of a step's candidates is gated, in words with their numbers; empty without a policy. */
  candidateRules: string[];
  auditError: { reason: string; message: string } | null;
  scoringMethod: string | null;
  /** Forgotten people against never-seen people (forgetting-report.ts); null without metrics. */
  forgetting: ForgettingReport | null;
}

export interface ComplianceReport {
  kind: 'request' | 'version';
  generatedAt: string;
  lineage: string;
  request: (Omit<RequestFacts, 'receivedAt' | 'dueAt' | 'completedAt' | 'forgetSetPurgedAt' | 'forgetSetKeptUntil'> & {
    receivedAt: string;
    dueAt: string;
    completedAt: string | null;
    forgetSetPurgedAt: string | null;
    forgetSetKeptUntil: string | null;
    due: DueState;
  }) | null;
  /** The version this report is about (the one that carried out the request, or the last attempt). */
  versionNumber: number | null;
  /** Versions involved: the audited ones and their ancestry down to version 0, with adapter hashes. */
  versions: Array<Omit<VersionFacts, 'createdAt'> & { createdAt: string }>;
  /** The audit of `versionNumber` (its latest attempt); null when it has not been audited. */
  audit: ReportAudit | null;
  /** Every attempt's audit for the request (or the version), oldest first. */
  attempts: Array<{ versionNumber: number; attempt: number; decision: GateDecision; reasons: string[]; recordedAt: string }>;
  /** The lineage's sustainability curve across versions (version 0 first), REJECTED candidates left out. */
  sustainability: SustainabilityPoint[];
  links: { json: string; html: string };
}

export function dueState(request: Pick<RequestFacts, 'dueAt' | 'completedAt'>, now: Date): DueState {
  if (request.completedAt) return request.completedAt.getTime() <= request.dueAt.getTime() ? 'MET' : 'MISSED';
  return now.getTime() > request.dueAt.getTime() ? 'OVERDUE' : 'PENDING';
}

function latestPerVersion(audits: StoredAudit[]): Map<number, StoredAudit> {
  const latest = new Map<number, StoredAudit>();
  for (const a of [...audits].sort((x, y) => x.recordedAt.getTime() - y.recordedAt.getTime())) latest.set(a.versionNumber, a);
  return latest;
}

/** PULSE's sustainability view: what each version still knows of everyone forgotten so far. */
export function sustainabilityCurve(versions: VersionFacts[], audits: StoredAudit[]): SustainabilityPoint[] {
  const latest = latestPerVersion(audits);
  const point = (version: number, status: string, m: AuditMetrics): SustainabilityPoint => ({
    version,
    status,
    cumulativeForget: { multimodal: m.cumulativeForget.multimodal.accuracy, text: m.cumulativeForget.text.accuracy },
    retain: { multimodal: m.retain.multimodal.accuracy, text: m.retain.text.accuracy },
    general: m.general.overall.accuracy,
  });
  const points: SustainabilityPoint[] = [];
  const v0 = versions.find((v) => v.number === 0);
  const firstBaseline = [...latest.values()].find((a) => a.result.baseline)?.result.baseline;
  const v0Metrics = latest.get(0)?.result.metrics ?? firstBaseline;
  if (v0Metrics) points.push(point(0, v0?.status ?? 'BASE', v0Metrics));
  for (const v of [...versions].sort((a, b) => a.number - b.number)) {
    const m = latest.get(v.number)?.result.metrics;
    if (v.number === 0 || v.status === 'REJECTED' || !m) continue;
    points.push(point(v.number, v.status, m));
  }
  return points;
}

/** The version and its ancestors, nearest first, ending at version 0. */
function ancestry(versions: VersionFacts[], from: number): VersionFacts[] {
  const byNumber = new Map(versions.map((v) => [v.number, v]));
  const chain: VersionFacts[] = [];
  for (let v = byNumber.get(from); v && !chain.includes(v); v = v.parentNumber === null ? undefined : byNumber.get(v.parentNumber)) chain.push(v);
  const base = byNumber.get(0);
  if (base && !chain.includes(base)) chain.push(base);
  return chain;
}

/**
 * The rules beyond the gate checks that decide which candidate of a step is promoted (the policy's `goal`
 * section, applied by src/orchestration/domain/passes.ts), in words with their numbers.
 */
export function candidateRules(policy: GatePolicy | null): string[] {
  if (!policy) return [];
  const line = policy.goal.maxForgottenAccuracy.toFixed(2);
  return [
    `per-person goal: every forgotten person at or below ${line} accuracy in both modalities`,
    `a re-forget pass that leaves more forgotten people above ${line} than the passing candidate it continues is rejected, and that candidate is kept`,
    policy.goal.passes > 0
      ? `after the re-forget passes, up to ${policy.goal.passes} goal passes on the forgotten people above ${line}, each kept only when it passes the gate and leaves fewer of them above ${line}`
      : 'no goal passes (goal.passes = 0)',
  ];
}

function toReportAudit(a: StoredAudit): ReportAudit {
  const r = a.result;
  return {
    versionNumber: a.versionNumber,
    attempt: a.attempt,
    recordedAt: a.recordedAt.toISOString(),
    decision: r.decision,
    reasons: r.reasons,
    checks: r.checks ?? [],
    metrics: r.metrics,
    baseline: r.baseline ?? null,
    gatePolicy: r.gatePolicy ?? null,
    candidateRules: candidateRules(r.gatePolicy ?? null),
    auditError: r.auditError ?? null,
    scoringMethod: r.metrics?.scoringMethod ?? null,
    forgetting: forgettingReport(r.metrics, r.baseline ?? null, r.gatePolicy ?? null),
  };
}

export interface ReportFacts {
  lineage: string;
  request: RequestFacts | null;
  /** For a version report: its number. For a request report: the version that carried it out, if any. */
  versionNumber: number | null;
  versions: VersionFacts[];
  /** Every audit recorded for the lineage. */
  audits: StoredAudit[];
  links: { json: string; html: string };
  now: Date;
}

export function buildReport(facts: ReportFacts): ComplianceReport {
  const { request } = facts;
  const relevant = facts.audits
    .filter((a) => (request ? a.requestId === request.id : a.versionNumber === facts.versionNumber))
    .sort((x, y) => x.recordedAt.getTime() - y.recordedAt.getTime());
  // The carrying version when known, else the last attempt made for the request.
  const versionNumber = facts.versionNumber ?? relevant.at(-1)?.versionNumber ?? null;
  const audited = relevant.filter((a) => a.versionNumber === versionNumber).at(-1);
  const involved = new Map<number, VersionFacts>();
  for (const n of [...new Set([...relevant.map((a) => a.versionNumber), ...(versionNumber === null ? [] : [versionNumber])])]) {
    for (const v of ancestry(facts.versions, n)) involved.set(v.number, v);
  }
  if (request) for (const v of facts.versions) if (v.requestIds.includes(request.id)) involved.set(v.number, v);
  return {
    kind: request ? 'request' : 'version',
    generatedAt: facts.now.toISOString(),
    lineage: facts.lineage,
    request: request && {
      ...request,
      receivedAt: request.receivedAt.toISOString(),
      dueAt: request.dueAt.toISOString(),
      completedAt: request.completedAt?.toISOString() ?? null,
      forgetSetPurgedAt: request.forgetSetPurgedAt?.toISOString() ?? null,
      forgetSetKeptUntil: request.forgetSetKeptUntil?.toISOString() ?? null,
      due: dueState(request, facts.now),
    },
    versionNumber,
    versions: [...involved.values()].sort((a, b) => a.number - b.number).map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })),
    audit: audited ? toReportAudit(audited) : null,
    attempts: relevant.map((a) => ({
      versionNumber: a.versionNumber,
      attempt: a.attempt,
      decision: a.result.decision,
      reasons: a.result.reasons,
      recordedAt: a.recordedAt.toISOString(),
    })),
    sustainability: sustainabilityCurve(facts.versions, facts.audits),
    links: facts.links,
  };
}
