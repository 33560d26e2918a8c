import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed notifications: webhook subscriptions (the secret only encrypted), the deliveries to make
 * (an outbox written in the transaction of the event that causes them), every attempt and its
 * outcome, and the deadline notices already raised (once per request and kind).
 */
export class Webhooks1765300000000 implements MigrationInterface {
  name = 'Webhooks1765300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE webhook_subscriptions (
        id uuid PRIMARY KEY,
        url text NOT NULL,
        event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
        lineage text REFERENCES model_lineages(name),
        secret_ciphertext bytea NOT NULL,
        secret_iv bytea NOT NULL,
        secret_auth_tag bytea NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await db.query(`CREATE INDEX webhook_subscriptions_live ON webhook_subscriptions (created_at, id) WHERE deleted_at IS NULL`);
    await db.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        subscription_id uuid NOT NULL REFERENCES webhook_subscriptions(id),
        event_id text NOT NULL,
        event_type text NOT NULL,
        -- the exact bytes sent on every attempt: a retry carries the same event id and body
        body text NOT NULL,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
        status_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- when its delivery workflow was started (the outbox's mark)
        dispatched_at timestamptz,
        finished_at timestamptz,
        UNIQUE (subscription_id, event_id)
      )`);
    await db.query(`CREATE INDEX webhook_deliveries_undispatched ON webhook_deliveries (created_at) WHERE dispatched_at IS NULL`);
    await db.query(`
      CREATE TABLE webhook_attempts (
        delivery_id uuid NOT NULL REFERENCES webhook_deliveries(id),
        attempt integer NOT NULL,
        attempted_at timestamptz NOT NULL DEFAULT now(),
        status_code integer,
        error text,
        duration_ms integer NOT NULL,
        succeeded boolean NOT NULL,
        PRIMARY KEY (delivery_id, attempt)
      )`);
    await db.query(`
      CREATE TABLE request_deadline_notices (
        request_id uuid NOT NULL REFERENCES deletion_requests(id),
        kind text NOT NULL CHECK (kind IN ('DUE_SOON', 'OVERDUE')),
        raised_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (request_id, kind)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['request_deadline_notices', 'webhook_attempts', 'webhook_deliveries', 'webhook_subscriptions']) {
      await db.query(`DROP TABLE ${table}`);
    }
  }
}
