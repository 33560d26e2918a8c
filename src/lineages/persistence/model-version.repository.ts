import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db, one, sql } from '../../database/sql';
import { ModelVersion, VersionStatus } from '../domain/lineage';

interface VersionRow {
  id: string;
  lineage: string;
  number: number;
  parent_number: number | null;
  adapter_uri: string | null;
  adapter_sha256: string | null;
  method: string | null;
  hyper_parameters: Record<string, unknown> | null;
  request_ids: string[];
  reforgotten_subject_ids: string[];
  status: VersionStatus;
  status_reason: string | null;
  created_at: Date;
}

function toVersion(row: VersionRow): ModelVersion {
  return {
    id: row.id,
    lineage: row.lineage,
    number: row.number,
    parentNumber: row.parent_number,
    adapterUri: row.adapter_uri,
    adapterSha256: row.adapter_sha256,
    method: row.method,
    hyperParameters: row.hyper_parameters,
    requestIds: row.request_ids,
    reforgottenSubjectIds: row.reforgotten_subject_ids,
    status: row.status,
    statusReason: row.status_reason,
    createdAt: row.created_at,
  };
}

export type NewModelVersion = Omit<ModelVersion, 'id' | 'createdAt' | 'statusReason'>;

@Injectable()
export class ModelVersionRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Db, version: NewModelVersion): Promise<ModelVersion> {
    const { rows } = await sql<VersionRow>(
      tx,
      `INSERT INTO model_versions (lineage, number, parent_number, adapter_uri, adapter_sha256, method, hyper_parameters, request_ids, reforgotten_subject_ids, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::uuid[], $9::text[], $10) RETURNING *`,
      [
        version.lineage,
        version.number,
        version.parentNumber,
        version.adapterUri,
        version.adapterSha256,
        version.method,
        version.hyperParameters === null ? null : JSON.stringify(version.hyperParameters),
        version.requestIds,
        version.reforgottenSubjectIds,
        version.status,
      ],
    );
    return toVersion(rows[0]);
  }

  async nextNumber(tx: Db, lineage: string): Promise<number> {
    const row = await one<{ next: number }>(tx, 'SELECT coalesce(max(number) + 1, 0) AS next FROM model_versions WHERE lineage = $1', [lineage]);
    return row!.next;
  }

  async listByLineage(lineage: string, db: Db = this.dataSource.manager): Promise<ModelVersion[]> {
    const { rows } = await sql<VersionRow>(db, 'SELECT * FROM model_versions WHERE lineage = $1 ORDER BY number', [lineage]);
    return rows.map(toVersion);
  }

  async findByNumber(lineage: string, number: number, db: Db = this.dataSource.manager): Promise<ModelVersion | null> {
    const row = await one<VersionRow>(db, 'SELECT * FROM model_versions WHERE lineage = $1 AND number = $2', [lineage, number]);
    return row ? toVersion(row) : null;
  }

  async findById(id: string, db: Db = this.dataSource.manager): Promise<ModelVersion | null> {
    const row = await one<VersionRow>(db, 'SELECT * FROM model_versions WHERE id = $1', [id]);
    return row ? toVersion(row) : null;
  }

  async setStatus(tx: Db, id: string, status: VersionStatus, reason: string | null): Promise<void> {
    await sql(tx, 'UPDATE model_versions SET status = $2, status_reason = $3 WHERE id = $1', [id, status, reason]);
  }
}
