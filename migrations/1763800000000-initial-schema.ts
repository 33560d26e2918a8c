import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The control plane's tables. Personal data lives only in forget_sets.ciphertext (AES-256-GCM). The event log is
 * evidence: the database itself refuses to change or remove a row of it.
 */
export class InitialSchema1763800000000 implements MigrationInterface {
  name = 'InitialSchema1763800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token_sha256 char(64) NOT NULL UNIQUE,
        role text NOT NULL CHECK (role IN ('REQUESTER', 'OPERATOR', 'AUDITOR')),
        owner text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        expires_at timestamptz,
        -- recorded at most once a minute per token, so authentication does not write on every call
        last_used_at timestamptz
      )`);
    // Any change to who a token is or whether it is valid (revocation, expiry, deletion) is pushed to
    // every API process, which evicts the token from its cache of valid tokens (src/auth/domain/principal-cache.ts).
    await db.query(`
      CREATE FUNCTION api_tokens_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('lethe_api_token_changed', OLD.id::text);
        RETURN NULL;
      END $$`);
    await db.query(
      `CREATE TRIGGER api_tokens_changed AFTER UPDATE OF token_sha256, role, owner, revoked_at, expires_at OR DELETE ON api_tokens FOR EACH ROW EXECUTE FUNCTION api_tokens_notify_change()`,
    );
    await db.query(`
      CREATE TABLE model_lineages (
        name text PRIMARY KEY,
        base_model jsonb NOT NULL,
        dataset_path text NOT NULL,
        lora_config jsonb NOT NULL,
        strategy text NOT NULL CHECK (strategy IN ('SEQUENTIAL', 'CUMULATIVE')),
        method text NOT NULL,
        hyper_parameters jsonb NOT NULL,
        batching_window_seconds integer NOT NULL CHECK (batching_window_seconds >= 0),
        reforget_passes integer NOT NULL CHECK (reforget_passes BETWEEN 0 AND 5),
        reforget_above_accuracy double precision NOT NULL CHECK (reforget_above_accuracy >= 0 AND reforget_above_accuracy < 1),
        gate_policy jsonb NOT NULL,
        gate_policy_version integer NOT NULL,
        champion_version integer,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE model_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        lineage text NOT NULL REFERENCES model_lineages(name),
        number integer NOT NULL CHECK (number >= 0),
        parent_number integer,
        adapter_uri text,
        adapter_sha256 char(64),
        method text,
        hyper_parameters jsonb,
        request_ids uuid[] NOT NULL DEFAULT '{}',
        reforgotten_subject_ids text[] NOT NULL DEFAULT '{}',
        status text NOT NULL CHECK (status IN ('CANDIDATE', 'PROMOTED', 'REJECTED', 'ROLLED_BACK', 'SUPERSEDED')),
        status_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (lineage, number)
      )`);
    await db.query(`
      CREATE TABLE dataset_subjects (
        lineage text NOT NULL REFERENCES model_lineages(name),
        id text NOT NULL,
        name text NOT NULL,
        knowledge text NOT NULL CHECK (knowledge IN ('FINETUNED', 'PRETRAINED', 'NEVER_SEEN')),
        PRIMARY KEY (lineage, id)
      )`);
    await db.query(`
      CREATE TABLE deletion_requests (
        id uuid PRIMARY KEY,
        requester text NOT NULL,
        idempotency_key text NOT NULL,
        payload_digest char(64) NOT NULL,
        lineage text NOT NULL REFERENCES model_lineages(name),
        dataset_subject_id text,
        legal_basis text NOT NULL,
        status text NOT NULL CHECK (status IN ('RECEIVED', 'QUEUED', 'UNLEARNING', 'AUDITING', 'COMPLETED', 'NEEDS_REVIEW', 'REJECTED', 'FAILED', 'CANCELED', 'REOPENED')),
        status_reason text,
        received_at timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        model_version_id uuid REFERENCES model_versions(id),
        UNIQUE (requester, idempotency_key),
        FOREIGN KEY (lineage, dataset_subject_id) REFERENCES dataset_subjects(lineage, id)
      )`);
    await db.query(`CREATE INDEX deletion_requests_lineage_status ON deletion_requests (lineage, status)`);
    await db.query(`CREATE INDEX deletion_requests_received ON deletion_requests (received_at, id)`);
    // The intake outbox (requests/request-queuer.service.ts) reads stored, unqueued requests every second.
    await db.query(`CREATE INDEX deletion_requests_outbox ON deletion_requests (received_at, id) WHERE status = 'RECEIVED'`);
    await db.query(`
      CREATE TABLE forget_sets (
        request_id uuid PRIMARY KEY REFERENCES deletion_requests(id),
        ciphertext bytea,
        iv bytea,
        auth_tag bytea,
        digest char(64) NOT NULL,
        purged_at timestamptz,
        CHECK ((purged_at IS NULL) = (ciphertext IS NOT NULL))
      )`);
    await db.query(`
      CREATE TABLE audit_results (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        version_id uuid NOT NULL REFERENCES model_versions(id),
        request_id uuid REFERENCES deletion_requests(id),
        attempt integer NOT NULL DEFAULT 1,
        metrics jsonb NOT NULL,
        decision text NOT NULL,
        reasons jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX audit_results_version ON audit_results (version_id)`);
    await db.query(`CREATE INDEX audit_results_request ON audit_results (request_id)`);
    await db.query(`
      CREATE TABLE event_log (
        seq bigserial PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        actor text NOT NULL,
        type text NOT NULL,
        entity_type text NOT NULL,
        entity_id text NOT NULL,
        reason text,
        data jsonb NOT NULL,
        prev_hash char(64) NOT NULL,
        hash char(64) NOT NULL UNIQUE
      )`);
    await db.query(`CREATE INDEX event_log_entity ON event_log (entity_type, entity_id, seq)`);
    await db.query(`
      CREATE FUNCTION event_log_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'event_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await db.query(`CREATE TRIGGER event_log_no_update_delete BEFORE UPDATE OR DELETE ON event_log FOR EACH ROW EXECUTE FUNCTION event_log_forbid_change()`);
    await db.query(`CREATE TRIGGER event_log_no_truncate BEFORE TRUNCATE ON event_log FOR EACH STATEMENT EXECUTE FUNCTION event_log_forbid_change()`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['event_log', 'audit_results', 'forget_sets', 'deletion_requests', 'dataset_subjects', 'model_versions', 'model_lineages', 'api_tokens']) {
      await db.query(`DROP TABLE ${table}`);
    }
    await db.query(`DROP FUNCTION event_log_forbid_change()`);
    await db.query(`DROP FUNCTION api_tokens_notify_change()`);
  }
}
