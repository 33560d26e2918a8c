// Read-only queries for compliance reports over the control plane's tables (requests, forget
// sets, versions, audit results, event log). Audit rows are written by the control plane.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db, one, sql } from '../../database/sql';
import { AuditResult } from '../domain/audit-activity';
import { isAuditMetrics } from '../domain/audit-input';
import { GateDecision } from '../domain/decision';
import { RequestFacts, StoredAudit, VersionFacts } from '../domain/report';

interface RequestRow {
  id: string;
  requester: string;
  lineage: string;
  dataset_subject_id: string | null;
  legal_basis: string;
  status: string;
  status_reason: string | null;
  received_at: Date;
  due_at: Date;
  digest: string | null;
  purged_at: Date | null;
  kept_until: Date | null;
  completed_at: Date | null;
  carried_by: number | null;
}

interface VersionRow {
  number: number;
  parent_number: number | null;
  status: string;
  adapter_sha256: string | null;
  method: string | null;
  request_ids: string[];
  reforgotten_subject_ids: string[];
  created_at: Date;
}

interface AuditRow {
  version_number: number;
  request_id: string | null;
  attempt: number;
  metrics: unknown;
  decision: GateDecision;
  reasons: string[];
  created_at: Date;
}

export interface RequestRecord {
  facts: RequestFacts;
  lineage: string;
  /** Number of the version that carried the request out, if any. */
  carriedBy: number | null;
  /** The request's own dataset person (null for an inline profile): what its REQUESTER may see by id. */
  datasetSubjectId: string | null;
}

/**
 * The `metrics` column holds either the audit activity's whole result (preferred: it keeps the
 * baseline, the checks and the policy in force) or only its metrics.
 */
export function storedAuditResult(row: Pick<AuditRow, 'metrics' | 'decision' | 'reasons'>): StoredAudit['result'] {
  const stored = row.metrics as Partial<AuditResult> | null;
  if (stored && typeof stored === 'object' && 'decision' in stored) {
    return { ...stored, decision: row.decision, reasons: row.reasons, metrics: isAuditMetrics(stored.metrics) ? stored.metrics : null };
  }
  return { decision: row.decision, reasons: row.reasons, metrics: isAuditMetrics(row.metrics) ? row.metrics : null };
}

@Injectable()
export class ReportFactsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get db(): Db {
    return this.dataSource.manager;
  }

  async findRequest(id: string): Promise<RequestRecord | null> {
    const row = await one<RequestRow>(
      this.db,
      `SELECT r.id, r.requester, r.lineage, r.dataset_subject_id, r.legal_basis, r.status, r.status_reason, r.received_at, r.due_at,
              f.digest, f.purged_at, f.kept_until, v.number AS carried_by,
              CASE WHEN r.status = 'COMPLETED' THEN (
                SELECT max(e.occurred_at) FROM event_log e
                 WHERE e.entity_type = 'request' AND e.entity_id = r.id::text
                   AND e.type = 'request.status_changed' AND e.data->>'to' = 'COMPLETED') END AS completed_at
         FROM deletion_requests r
         LEFT JOIN forget_sets f ON f.request_id = r.id
         LEFT JOIN model_versions v ON v.id = r.model_version_id
        WHERE r.id = $1`,
      [id],
    );
    if (!row) return null;
    return {
      lineage: row.lineage,
      carriedBy: row.carried_by,
      datasetSubjectId: row.dataset_subject_id,
      facts: {
        id: row.id,
        requester: row.requester,
        legalBasis: row.legal_basis,
        status: row.status,
        statusReason: row.status_reason,
        receivedAt: row.received_at,
        dueAt: row.due_at,
        completedAt: row.completed_at,
        forgetSetDigest: row.digest,
        forgetSetPurgedAt: row.purged_at,
        forgetSetKeptUntil: row.purged_at ? null : row.kept_until,
      },
    };
  }

  async listVersions(lineage: string): Promise<VersionFacts[]> {
    const { rows } = await sql<VersionRow>(
      this.db,
      'SELECT number, parent_number, status, adapter_sha256, method, request_ids::text[] AS request_ids, reforgotten_subject_ids, created_at FROM model_versions WHERE lineage = $1 ORDER BY number',
      [lineage],
    );
    return rows.map((r) => ({
      number: r.number,
      parentNumber: r.parent_number,
      status: r.status,
      adapterSha256: r.adapter_sha256,
      method: r.method,
      requestIds: r.request_ids,
      reforgottenSubjectIds: r.reforgotten_subject_ids,
      createdAt: r.created_at,
    }));
  }

  async listAudits(lineage: string): Promise<StoredAudit[]> {
    const { rows } = await sql<AuditRow>(
      this.db,
      `SELECT v.number AS version_number, a.request_id, a.attempt, a.metrics, a.decision, a.reasons, a.created_at
         FROM audit_results a JOIN model_versions v ON v.id = a.version_id
        WHERE v.lineage = $1 ORDER BY a.created_at, a.id`,
      [lineage],
    );
    return rows.map((r) => ({
      versionNumber: r.version_number,
      requestId: r.request_id,
      attempt: r.attempt,
      recordedAt: r.created_at,
      result: storedAuditResult(r),
    }));
  }
}
