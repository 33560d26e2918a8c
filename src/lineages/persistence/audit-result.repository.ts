import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db, sql } from '../../database/sql';

export interface AuditResult {
  id: string;
  versionId: string;
  requestId: string | null;
  attempt: number;
  metrics: unknown;
  decision: string;
  reasons: string[];
  createdAt: Date;
}

interface Row {
  id: string;
  version_id: string;
  request_id: string | null;
  attempt: number;
  metrics: unknown;
  decision: string;
  reasons: string[];
  created_at: Date;
}

const toResult = (row: Row): AuditResult => ({
  id: row.id,
  versionId: row.version_id,
  requestId: row.request_id,
  attempt: row.attempt,
  metrics: row.metrics,
  decision: row.decision,
  reasons: row.reasons,
  createdAt: row.created_at,
});

@Injectable()
export class AuditResultRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Db, result: Omit<AuditResult, 'id' | 'createdAt'>): Promise<AuditResult> {
    const { rows } = await sql<Row>(
      tx,
      'INSERT INTO audit_results (version_id, request_id, attempt, metrics, decision, reasons) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
      [result.versionId, result.requestId, result.attempt, JSON.stringify(result.metrics), result.decision, JSON.stringify(result.reasons)],
    );
    return toResult(rows[0]);
  }

  async listByVersion(versionId: string, db: Db = this.dataSource.manager): Promise<AuditResult[]> {
    const { rows } = await sql<Row>(db, 'SELECT * FROM audit_results WHERE version_id = $1 ORDER BY created_at, id', [versionId]);
    return rows.map(toResult);
  }
}
