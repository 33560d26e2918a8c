import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Sealed } from '../../common/crypto';
import { Db, one, sql } from '../../database/sql';
import type { WebhookEventType } from '../domain/notification-events';
import type { DeliveryStatus, WebhookSubscription } from '../domain/webhook';

interface SubscriptionRow {
  id: string;
  url: string;
  event_types: WebhookEventType[];
  lineage: string | null;
  created_by: string;
  created_at: Date;
  deleted_at: Date | null;
}

function toSubscription(row: SubscriptionRow): WebhookSubscription {
  return { id: row.id, url: row.url, eventTypes: row.event_types, lineage: row.lineage, createdBy: row.created_by, createdAt: row.created_at, deletedAt: row.deleted_at };
}

const SUBSCRIPTION_COLUMNS = 'id, url, event_types, lineage, created_by, created_at, deleted_at';

/** A delivery with what an attempt needs: the exact body, and the subscription's URL and sealed secret. */
export interface DeliveryToAttempt {
  id: string;
  eventId: string;
  eventType: string;
  body: string;
  status: DeliveryStatus;
  url: string;
  subscriptionId: string;
  subscriptionDeleted: boolean;
  sealedSecret: Sealed;
}

/** A delivery as an operator reads it: its outcome and its last attempt. */
export interface DeliveryRecord {
  id: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  statusReason: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  attempts: number;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
}

interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  status_reason: string | null;
  created_at: Date;
  finished_at: Date | null;
  attempts: number;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  succeeded: boolean;
}

/** Subscriptions, the delivery outbox and its attempts. */
@Injectable()
export class WebhookRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get db(): Db {
    return this.dataSource.manager;
  }

  async insertSubscription(tx: Db, s: { id: string; url: string; eventTypes: WebhookEventType[]; lineage: string | null; createdBy: string; secret: Sealed }): Promise<WebhookSubscription> {
    const row = await one<SubscriptionRow>(
      tx,
      `INSERT INTO webhook_subscriptions (id, url, event_types, lineage, secret_ciphertext, secret_iv, secret_auth_tag, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${SUBSCRIPTION_COLUMNS}`,
      // Millisecond precision: the list's cursor carries created_at as JavaScript sees it.
      [s.id, s.url, s.eventTypes, s.lineage, s.secret.ciphertext, s.secret.iv, s.secret.authTag, s.createdBy, new Date()],
    );
    return toSubscription(row!);
  }

  /** Marks it deleted (its deliveries and attempts stay as records); null when there is no live one. */
  async markDeleted(tx: Db, id: string): Promise<WebhookSubscription | null> {
    const row = await one<SubscriptionRow>(tx, `UPDATE webhook_subscriptions SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING ${SUBSCRIPTION_COLUMNS}`, [id]);
    return row ? toSubscription(row) : null;
  }

  /** Live subscriptions, oldest first, after a (createdAt, id) position. */
  async page(first: number, after: { createdAt: Date; id: string } | null): Promise<WebhookSubscription[]> {
    const { rows } = await sql<SubscriptionRow>(
      this.db,
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions
       WHERE deleted_at IS NULL AND ($1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid))
       ORDER BY created_at, id LIMIT $3`,
      [after?.createdAt ?? null, after?.id ?? null, first],
    );
    return rows.map(toSubscription);
  }

  async findSubscription(id: string): Promise<WebhookSubscription | null> {
    const row = await one<SubscriptionRow>(this.db, `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1`, [id]);
    return row ? toSubscription(row) : null;
  }

  /** A subscription's deliveries, oldest first, with their attempts summed up. */
  async pageDeliveries(subscriptionId: string, first: number, after: { createdAt: Date; id: string } | null): Promise<DeliveryRecord[]> {
    const { rows } = await sql<DeliveryRow>(
      this.db,
      `SELECT d.id, d.event_id, d.event_type, d.status, d.status_reason, d.created_at, d.finished_at,
              count(a.attempt)::int AS attempts, max(a.attempted_at) AS last_attempt_at,
              (array_agg(a.status_code ORDER BY a.attempt DESC))[1] AS last_status_code,
              (array_agg(a.error ORDER BY a.attempt DESC))[1] AS last_error
       FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id
       WHERE d.subscription_id = $1 AND ($2::timestamptz IS NULL OR (d.created_at, d.id) > ($2::timestamptz, $3::uuid))
       GROUP BY d.id ORDER BY d.created_at, d.id LIMIT $4`,
      [subscriptionId, after?.createdAt ?? null, after?.id ?? null, first],
    );
    return rows.map((r) => ({
      id: r.id, eventId: r.event_id, eventType: r.event_type, status: r.status, statusReason: r.status_reason, createdAt: r.created_at, finishedAt: r.finished_at,
      attempts: r.attempts, lastAttemptAt: r.last_attempt_at, lastStatusCode: r.last_status_code, lastError: r.last_error,
    }));
  }

  async countDeliveries(subscriptionId: string): Promise<number> {
    const row = await one<{ n: string }>(this.db, 'SELECT count(*) AS n FROM webhook_deliveries WHERE subscription_id = $1', [subscriptionId]);
    return Number(row!.n);
  }

  async countLive(): Promise<number> {
    const row = await one<{ n: string }>(this.db, 'SELECT count(*) AS n FROM webhook_subscriptions WHERE deleted_at IS NULL');
    return Number(row!.n);
  }

  /** Live subscriptions that want this event type for this lineage. */
  async subscribersOf(tx: Db, type: WebhookEventType, lineage: string): Promise<string[]> {
    const { rows } = await sql<{ id: string }>(
      tx,
      `SELECT id FROM webhook_subscriptions WHERE deleted_at IS NULL AND $1 = ANY(event_types) AND (lineage IS NULL OR lineage = $2) ORDER BY id`,
      [type, lineage],
    );
    return rows.map((r) => r.id);
  }

  /** One delivery per subscription; the event id keeps a second insert of the same event out. */
  async insertDeliveries(tx: Db, subscriptionIds: string[], event: { id: string; type: string; body: string }): Promise<void> {
    await sql(
      tx,
      // Millisecond precision: the deliveries list's cursor carries created_at as JavaScript sees it.
      `INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, body, created_at)
       SELECT s, $2, $3, $4, date_trunc('milliseconds', now()) FROM unnest($1::uuid[]) AS s
       ON CONFLICT (subscription_id, event_id) DO NOTHING`,
      [subscriptionIds, event.id, event.type, event.body],
    );
  }

  /** The outbox read: deliveries whose workflow has not been started, oldest first. */
  async listUndispatched(limit: number): Promise<string[]> {
    const { rows } = await sql<{ id: string }>(this.db, 'SELECT id FROM webhook_deliveries WHERE dispatched_at IS NULL ORDER BY created_at, id LIMIT $1', [limit]);
    return rows.map((r) => r.id);
  }

  async markDispatched(ids: string[]): Promise<void> {
    await sql(this.db, 'UPDATE webhook_deliveries SET dispatched_at = now() WHERE id = ANY($1::uuid[]) AND dispatched_at IS NULL', [ids]);
  }

  async findToAttempt(deliveryId: string): Promise<DeliveryToAttempt | null> {
    const row = await one<{ id: string; event_id: string; event_type: string; body: string; status: DeliveryStatus; url: string; subscription_id: string; deleted_at: Date | null; secret_ciphertext: Buffer; secret_iv: Buffer; secret_auth_tag: Buffer }>(
      this.db,
      `SELECT d.id, d.event_id, d.event_type, d.body, d.status, s.url, s.id AS subscription_id, s.deleted_at, s.secret_ciphertext, s.secret_iv, s.secret_auth_tag
       FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE d.id = $1`,
      [deliveryId],
    );
    if (!row) return null;
    return {
      id: row.id,
      eventId: row.event_id,
      eventType: row.event_type,
      body: row.body,
      status: row.status,
      url: row.url,
      subscriptionId: row.subscription_id,
      subscriptionDeleted: row.deleted_at !== null,
      sealedSecret: { ciphertext: row.secret_ciphertext, iv: row.secret_iv, authTag: row.secret_auth_tag },
    };
  }

  /** The attempt and, when it settles the delivery, its outcome: one transaction. A retried activity's attempt number is recorded once. */
  async recordAttempt(record: AttemptRecord): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await sql(
        tx,
        `INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms, succeeded) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (delivery_id, attempt) DO UPDATE SET status_code = EXCLUDED.status_code, error = EXCLUDED.error, duration_ms = EXCLUDED.duration_ms, succeeded = EXCLUDED.succeeded, attempted_at = now()`,
        [record.deliveryId, record.attempt, record.statusCode, record.error, record.durationMs, record.succeeded],
      );
      if (record.succeeded) await this.finish(tx, record.deliveryId, 'DELIVERED', null);
    });
  }

  /** PENDING -> DELIVERED or FAILED, once. */
  async finish(db: Db, deliveryId: string, status: Exclude<DeliveryStatus, 'PENDING'>, reason: string | null): Promise<void> {
    await sql(db, `UPDATE webhook_deliveries SET status = $2, status_reason = $3, finished_at = now() WHERE id = $1 AND status = 'PENDING'`, [deliveryId, status, reason]);
  }

  giveUp(deliveryId: string, reason: string): Promise<void> {
    return this.finish(this.db, deliveryId, 'FAILED', reason);
  }
}
