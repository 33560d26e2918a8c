import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db, one, sql } from '../../database/sql';
import { DeletionRequest } from '../domain/deletion-request';
import { RequestStatus } from '../domain/request-status';

interface RequestRow {
  id: string;
  requester: string;
  idempotency_key: string;
  payload_digest: string;
  lineage: string;
  dataset_subject_id: string | null;
  dataset_subject_name: string | null;
  legal_basis: string;
  status: RequestStatus;
  status_reason: string | null;
  received_at: Date;
  due_at: Date;
  updated_at: Date;
  model_version_id: string | null;
}

function toRequest(row: RequestRow): DeletionRequest {
  return {
    id: row.id,
    requester: row.requester,
    idempotencyKey: row.idempotency_key,
    payloadDigest: row.payload_digest,
    lineage: row.lineage,
    datasetSubjectId: row.dataset_subject_id,
    datasetSubjectName: row.dataset_subject_name,
    legalBasis: row.legal_basis,
    status: row.status,
    statusReason: row.status_reason,
    receivedAt: row.received_at,
    dueAt: row.due_at,
    updatedAt: row.updated_at,
    modelVersionId: row.model_version_id,
  };
}

const SELECT = `SELECT r.*, s.name AS dataset_subject_name FROM deletion_requests r
  LEFT JOIN dataset_subjects s ON s.lineage = r.lineage AND s.id = r.dataset_subject_id`;

export interface RequestFilter {
  requester?: string;
  lineage?: string;
  statuses?: RequestStatus[];
}

/** Keyset position in the (received_at, id) order. */
export interface RequestCursor {
  receivedAt: Date;
  id: string;
}

export type NewDeletionRequest = Omit<DeletionRequest, 'datasetSubjectName' | 'updatedAt' | 'statusReason' | 'modelVersionId'>;

@Injectable()
export class DeletionRequestRepository {
  constructor(private readonly dataSource: DataSource) {}

  get db(): Db {
    return this.dataSource.manager;
  }

  /**
   * Inserts in one statement; returns the ids inserted. A request whose (requester, idempotencyKey)
   * already exists, or repeats an earlier one in `requests`, is not inserted: a concurrent duplicate won.
   */
  async insertIfAbsent(tx: Db, requests: readonly NewDeletionRequest[]): Promise<Set<string>> {
    if (requests.length === 0) return new Set();
    const column = <K extends keyof NewDeletionRequest>(key: K) => requests.map((r) => r[key]);
    const { rows } = await sql<{ id: string }>(
      tx,
      `INSERT INTO deletion_requests (id, requester, idempotency_key, payload_digest, lineage, dataset_subject_id, legal_basis, status, received_at, due_at, updated_at)
       SELECT id, requester, idempotency_key, payload_digest, lineage, dataset_subject_id, legal_basis, status, received_at, due_at, received_at
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[])
           WITH ORDINALITY AS r(id, requester, idempotency_key, payload_digest, lineage, dataset_subject_id, legal_basis, status, received_at, due_at, ord)
        ORDER BY ord
       ON CONFLICT (requester, idempotency_key) DO NOTHING
       RETURNING id`,
      [
        column('id'),
        column('requester'),
        column('idempotencyKey'),
        column('payloadDigest'),
        column('lineage'),
        column('datasetSubjectId'),
        column('legalBasis'),
        column('status'),
        column('receivedAt'),
        column('dueAt'),
      ],
    );
    return new Set(rows.map((row) => row.id));
  }

  async findById(id: string, db: Db = this.db): Promise<DeletionRequest | null> {
    const row = await one<RequestRow>(db, `${SELECT} WHERE r.id = $1`, [id]);
    return row ? toRequest(row) : null;
  }

  /** Locks the row for the rest of the transaction: status changes are read-check-write. */
  async findByIdForUpdate(tx: Db, id: string): Promise<DeletionRequest | null> {
    const row = await one<RequestRow>(tx, `${SELECT} WHERE r.id = $1 FOR UPDATE OF r`, [id]);
    return row ? toRequest(row) : null;
  }

  /** Reads and locks these requests in one order (by id), so writers of several requests never wait on each other in a cycle. */
  async findManyForUpdate(tx: Db, ids: readonly string[]): Promise<DeletionRequest[]> {
    const { rows } = await sql<RequestRow>(tx, `${SELECT} WHERE r.id = ANY($1::uuid[]) ORDER BY r.id FOR UPDATE OF r`, [ids]);
    return rows.map(toRequest);
  }

  /**
   * Everything intake checks, in one round trip: the request already filed under this key, whether
   * the lineage exists, and the name of its dataset subject `datasetSubjectId` (null when none is
   * asked or none has that id). Lineages and their subjects are never deleted.
   */
  async findForIntake(
    requester: string,
    idempotencyKey: string,
    lineage: string,
    datasetSubjectId: string | null,
  ): Promise<{ existing: DeletionRequest | null; lineageExists: boolean; subjectName: string | null }> {
    const row = (await one<Partial<RequestRow> & { lineage_exists: boolean; intake_subject_name: string | null }>(
      this.db,
      `SELECT r.*, s.name AS dataset_subject_name,
              EXISTS (SELECT 1 FROM model_lineages WHERE name = $3) AS lineage_exists,
              (SELECT name FROM dataset_subjects WHERE lineage = $3 AND id = $4) AS intake_subject_name
         FROM (SELECT 1) AS one
         LEFT JOIN deletion_requests r ON r.requester = $1 AND r.idempotency_key = $2
         LEFT JOIN dataset_subjects s ON s.lineage = r.lineage AND s.id = r.dataset_subject_id`,
      [requester, idempotencyKey, lineage, datasetSubjectId],
    ))!;
    return { existing: row.id ? toRequest(row as RequestRow) : null, lineageExists: row.lineage_exists, subjectName: row.intake_subject_name };
  }

  async updateStatus(tx: Db, ids: readonly string[], status: RequestStatus, reason: string | null, modelVersionId?: string | null): Promise<void> {
    await sql(
      tx,
      `UPDATE deletion_requests SET status = $2, status_reason = $3, updated_at = now(),
         model_version_id = CASE WHEN $4::boolean THEN $5::uuid ELSE model_version_id END
       WHERE id = ANY($1::uuid[])`,
      [ids, status, reason, modelVersionId !== undefined, modelVersionId ?? null],
    );
  }

  private where(filter: RequestFilter, params: unknown[]): string[] {
    const clauses: string[] = [];
    if (filter.requester !== undefined) clauses.push(`r.requester = $${params.push(filter.requester)}`);
    if (filter.lineage !== undefined) clauses.push(`r.lineage = $${params.push(filter.lineage)}`);
    if (filter.statuses?.length) clauses.push(`r.status = ANY($${params.push(filter.statuses)}::text[])`);
    return clauses;
  }

  async page(filter: RequestFilter, first: number, after: RequestCursor | null): Promise<DeletionRequest[]> {
    const params: unknown[] = [];
    const clauses = this.where(filter, params);
    if (after) clauses.push(`(r.received_at, r.id) > ($${params.push(after.receivedAt)}, $${params.push(after.id)}::uuid)`);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const { rows } = await sql<RequestRow>(this.db, `${SELECT} ${where} ORDER BY r.received_at, r.id LIMIT $${params.push(first)}`, params);
    return rows.map(toRequest);
  }

  async count(filter: RequestFilter): Promise<number> {
    const params: unknown[] = [];
    const clauses = this.where(filter, params);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const row = await one<{ n: string }>(this.db, `SELECT count(*) AS n FROM deletion_requests r ${where}`, params);
    return Number(row!.n);
  }

  /** The outbox: stored requests not yet queued on their workflow, oldest first (a partial index serves it). */
  async listReceived(limit: number): Promise<Array<Pick<DeletionRequest, 'id' | 'lineage'>>> {
    const { rows } = await sql<Pick<RequestRow, 'id' | 'lineage'>>(this.db, `SELECT id, lineage FROM deletion_requests WHERE status = 'RECEIVED' ORDER BY received_at, id LIMIT $1`, [limit]);
    return rows;
  }

  /** Requests carried out by any of these versions and still COMPLETED, oldest first. */
  async listCompletedByVersions(tx: Db, versionIds: string[]): Promise<DeletionRequest[]> {
    const { rows } = await sql<RequestRow>(tx, `${SELECT} WHERE r.model_version_id = ANY($1::uuid[]) AND r.status = 'COMPLETED' ORDER BY r.received_at, r.id`, [versionIds]);
    return rows.map(toRequest);
  }

  async listByLineageAndStatus(lineage: string, statuses: RequestStatus[], db: Db = this.db): Promise<DeletionRequest[]> {
    const { rows } = await sql<RequestRow>(db, `${SELECT} WHERE r.lineage = $1 AND r.status = ANY($2::text[]) ORDER BY r.received_at, r.id`, [lineage, statuses]);
    return rows.map(toRequest);
  }

  /**
   * Claims the deadline notice `kind` for the requests in `statuses` due in [from, to) that have not
   * had it (once per request and kind, whatever the number of sweeps); `from` null: no lower bound.
   */
  async claimDeadlineNotices(tx: Db, kind: 'DUE_SOON' | 'OVERDUE', statuses: readonly RequestStatus[], from: Date | null, to: Date): Promise<Array<Pick<DeletionRequest, 'id' | 'lineage' | 'status' | 'dueAt'>>> {
    const { rows } = await sql<{ id: string; lineage: string; status: RequestStatus; due_at: Date }>(
      tx,
      `WITH claimed AS (
         INSERT INTO request_deadline_notices (request_id, kind)
         SELECT id, $1 FROM deletion_requests
         WHERE status = ANY($2::text[]) AND ($3::timestamptz IS NULL OR due_at >= $3) AND due_at < $4
         ON CONFLICT (request_id, kind) DO NOTHING
         RETURNING request_id)
       SELECT r.id, r.lineage, r.status, r.due_at FROM claimed c JOIN deletion_requests r ON r.id = c.request_id ORDER BY r.due_at, r.id`,
      [kind, statuses, from, to],
    );
    return rows.map((r) => ({ id: r.id, lineage: r.lineage, status: r.status, dueAt: r.due_at }));
  }
}
