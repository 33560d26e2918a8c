import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db, sql } from '../../database/sql';
import { CHAIN_KEY } from '../chain-key';
import { EntityType, EventFilter, GENESIS_HASH, LoggedEvent, NewEvent, eventHash } from '../domain/event';
import { assertStorable } from '../domain/storable-text';

interface EventRow {
  seq: string;
  occurred_at: Date;
  actor: string;
  type: string;
  entity_type: EntityType;
  entity_id: string;
  reason: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

function toEvent(row: EventRow): LoggedEvent {
  return {
    seq: Number(row.seq),
    occurredAt: row.occurred_at,
    actor: row.actor,
    type: row.type,
    entityType: row.entity_type,
    entityId: row.entity_id,
    reason: row.reason,
    data: row.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Arbitrary constant: the advisory lock that serialises appends so the chain never forks. */
const CHAIN_LOCK = 0x1e7e;
/** Events per INSERT statement: nine parameters each, well under Postgres's 65,535 per statement. */
const ROWS_PER_INSERT = 1000;

@Injectable()
export class EventLogRepository {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(CHAIN_KEY) private readonly chainKey: Buffer,
  ) {}

  /** Must run inside the caller's transaction: the event commits or rolls back with the change it records. */
  async append(tx: Db, event: NewEvent): Promise<LoggedEvent> {
    return (await this.appendMany(tx, [event]))[0];
  }

  /**
   * Appends events in this order, chained one to the next, in one statement. The chain's lock is
   * taken here and held until the caller's commit, so callers append last, after their slower work:
   * every writer of the log waits on this lock, and a change of many rows pays for it once.
   */
  async appendMany(tx: Db, events: readonly NewEvent[]): Promise<LoggedEvent[]> {
    if (!tx.queryRunner?.isTransactionActive) throw new Error('events are appended inside the transaction of the change they record');
    if (events.length === 0) return [];
    await sql(tx, 'SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
    const { rows } = await sql<{ hash: string }>(tx, 'SELECT hash FROM event_log ORDER BY seq DESC LIMIT 1');
    let prevHash = rows[0]?.hash ?? GENESIS_HASH;
    // Millisecond precision: what JavaScript and the hash see is exactly what Postgres stores.
    const occurredAt = new Date();
    const rowsToInsert = events.map((event) => {
      const body = {
        occurredAt,
        actor: event.actor,
        type: event.type,
        entityType: event.entityType,
        entityId: event.entityId,
        reason: event.reason ?? null,
        data: JSON.parse(JSON.stringify(event.data ?? {})) as Record<string, unknown>,
      };
      // Inputs are checked at the API (StorableTextPipe); this keeps any other writer from storing a row that cannot verify.
      assertStorable(body, 'event');
      const hash = eventHash(this.chainKey, prevHash, body);
      const row = [body.occurredAt, body.actor, body.type, body.entityType, body.entityId, body.reason, JSON.stringify(body.data), prevHash, hash];
      prevHash = hash;
      return row;
    });
    const inserted: EventRow[] = [];
    for (let start = 0; start < rowsToInsert.length; start += ROWS_PER_INSERT) {
      const params: unknown[] = [];
      const values = rowsToInsert.slice(start, start + ROWS_PER_INSERT).map((row) => `(${row.map((value) => `$${params.push(value)}`).join(', ')})`);
      const { rows: returned } = await sql<EventRow>(
        tx,
        `INSERT INTO event_log (occurred_at, actor, type, entity_type, entity_id, reason, data, prev_hash, hash)
         VALUES ${values.join(', ')} RETURNING *`,
        params,
      );
      inserted.push(...returned);
    }
    const logged = inserted.map(toEvent).sort((a, b) => a.seq - b.seq);
    // The chain is verified in seq order: a row numbered out of its place in the chain must never commit.
    logged.forEach((event, i) => {
      if (i > 0 && event.prevHash !== logged[i - 1].hash) throw new Error(`event_log: seq ${event.seq} was numbered out of chain order`);
    });
    return logged;
  }

  async listFor(entityType: EntityType, entityId: string, db: Db = this.dataSource.manager): Promise<LoggedEvent[]> {
    const { rows } = await sql<EventRow>(db, 'SELECT * FROM event_log WHERE entity_type = $1 AND entity_id = $2 ORDER BY seq', [entityType, entityId]);
    return rows.map(toEvent);
  }

  /** Newest first, before `beforeSeq` (null: from the head), optionally of one entity type or entity. */
  async pageBefore(beforeSeq: number | null, limit: number, filter: EventFilter, db: Db = this.dataSource.manager): Promise<LoggedEvent[]> {
    const { rows } = await sql<EventRow>(
      db,
      'SELECT * FROM event_log WHERE ($1::bigint IS NULL OR seq < $1) AND ($2::text IS NULL OR entity_type = $2) AND ($3::text IS NULL OR entity_id = $3) ORDER BY seq DESC LIMIT $4',
      [beforeSeq, filter.entityType, filter.entityId, limit],
    );
    return rows.map(toEvent);
  }

  async count(filter: EventFilter, db: Db = this.dataSource.manager): Promise<number> {
    const { rows } = await sql<{ n: string }>(db, 'SELECT count(*) AS n FROM event_log WHERE ($1::text IS NULL OR entity_type = $1) AND ($2::text IS NULL OR entity_id = $2)', [filter.entityType, filter.entityId]);
    return Number(rows[0].n);
  }

  /** The last row: its hash commits to the whole log before it. */
  async head(db: Db = this.dataSource.manager): Promise<{ seq: number; hash: string }> {
    const { rows } = await sql<{ seq: string; hash: string }>(db, 'SELECT seq, hash FROM event_log ORDER BY seq DESC LIMIT 1');
    return rows[0] ? { seq: Number(rows[0].seq), hash: rows[0].hash } : { seq: 0, hash: GENESIS_HASH };
  }

  /** One page of the whole log in chain order, for verification. */
  async pageAfter(seq: number, limit: number, db: Db = this.dataSource.manager): Promise<LoggedEvent[]> {
    const { rows } = await sql<EventRow>(db, 'SELECT * FROM event_log WHERE seq > $1 ORDER BY seq LIMIT $2', [seq, limit]);
    return rows.map(toEvent);
  }
}
