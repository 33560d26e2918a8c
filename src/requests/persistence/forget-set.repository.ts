import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Sealed } from '../../common/crypto';
import { Db, one, sql } from '../../database/sql';

export interface ForgetSetRow {
  requestId: string;
  sealed: Sealed | null;
  digest: string;
  purgedAt: Date | null;
  keptUntil: Date | null;
}

interface Row {
  request_id: string;
  ciphertext: Buffer | null;
  iv: Buffer | null;
  auth_tag: Buffer | null;
  digest: string;
  purged_at: Date | null;
  kept_until: Date | null;
}

function toRow(row: Row): ForgetSetRow {
  return {
    requestId: row.request_id,
    sealed: row.ciphertext && row.iv && row.auth_tag ? { ciphertext: row.ciphertext, iv: row.iv, authTag: row.auth_tag } : null,
    digest: row.digest,
    purgedAt: row.purged_at,
    keptUntil: row.kept_until,
  };
}

/** Stores only ciphertext; sealing and opening happen in ForgetSets. */
@Injectable()
export class ForgetSetRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insertMany(tx: Db, rows: ReadonlyArray<{ requestId: string; sealed: Sealed; digest: string }>): Promise<void> {
    if (rows.length === 0) return;
    await sql(
      tx,
      `INSERT INTO forget_sets (request_id, ciphertext, iv, auth_tag, digest)
       SELECT * FROM unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::bytea[], $5::text[])`,
      [rows.map((r) => r.requestId), rows.map((r) => r.sealed.ciphertext), rows.map((r) => r.sealed.iv), rows.map((r) => r.sealed.authTag), rows.map((r) => r.digest)],
    );
  }

  async find(requestId: string, db: Db = this.dataSource.manager): Promise<ForgetSetRow | null> {
    const row = await one<Row>(db, 'SELECT * FROM forget_sets WHERE request_id = $1', [requestId]);
    return row ? toRow(row) : null;
  }

  async findMany(requestIds: string[], db: Db = this.dataSource.manager): Promise<ForgetSetRow[]> {
    const { rows } = await sql<Row>(db, 'SELECT * FROM forget_sets WHERE request_id = ANY($1::uuid[])', [requestIds]);
    return rows.map(toRow);
  }

  /** Until when a completed request's personal data stays for a rollback; false if already purged. */
  async keepUntil(tx: Db, requestId: string, until: Date): Promise<boolean> {
    const { count } = await sql(tx, 'UPDATE forget_sets SET kept_until = $2 WHERE request_id = $1 AND purged_at IS NULL', [requestId, until]);
    return count === 1;
  }

  /** The request ids whose personal data is kept until `now` or earlier and not purged yet, soonest first. */
  async listKeptUntil(now: Date, db: Db = this.dataSource.manager): Promise<string[]> {
    const { rows } = await sql<{ request_id: string }>(db, 'SELECT request_id FROM forget_sets WHERE purged_at IS NULL AND kept_until <= $1 ORDER BY kept_until, request_id', [now]);
    return rows.map((r) => r.request_id);
  }

  /** Erases the personal data; the digest stays as evidence of what was held. false if already purged (or, with `onlyIfKeptUntilBy`, kept longer). */
  async purge(tx: Db, requestId: string, onlyIfKeptUntilBy?: Date): Promise<boolean> {
    const { count } = onlyIfKeptUntilBy
      ? await sql(tx, 'UPDATE forget_sets SET ciphertext = NULL, iv = NULL, auth_tag = NULL, purged_at = now() WHERE request_id = $1 AND purged_at IS NULL AND kept_until <= $2', [requestId, onlyIfKeptUntilBy])
      : await sql(tx, 'UPDATE forget_sets SET ciphertext = NULL, iv = NULL, auth_tag = NULL, purged_at = now() WHERE request_id = $1 AND purged_at IS NULL', [requestId]);
    return count === 1;
  }
}
