import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../src/database/data-source';
import { MIGRATIONS } from '../../migrations';
import { DEFAULT_PROFILE_RETENTION_DAYS, DEFAULT_SERVING_KIND } from '../../src/lineages/domain/lineage';
import { START_HOOK_TIMEOUT_MS, startTestPostgres, TestPostgres } from '../support/postgres';

async function tables(ds: DataSource): Promise<string[]> {
  const rows: Array<{ tablename: string }> = await ds.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY tablename`);
  return rows.map((r) => r.tablename);
}

describe('migrations (embedded Postgres)', () => {
  let pg: TestPostgres;
  let ds: DataSource;
  before(async () => {
    pg = await startTestPostgres();
    ds = createDataSource(pg.url);
    await ds.initialize();
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => {
    await ds?.destroy();
    await pg?.stop();
  });

  /** Reverts the migrations after `name`, then `name` itself. */
  const undoThrough = async (name: string): Promise<void> => {
    const index = MIGRATIONS.findIndex((m) => m.name === name);
    assert.ok(index >= 0, `${name} is a migration`);
    for (let i = MIGRATIONS.length; i > index; i--) await ds.undoLastMigration({ transaction: 'each' });
  };

  it('apply, revert one by one to nothing, and apply again', async () => {
    await ds.runMigrations({ transaction: 'each' });
    assert.deepEqual(await tables(ds), [
      'api_tokens', 'audit_results', 'dataset_subjects', 'deletion_requests', 'event_log', 'forget_sets', 'model_lineages', 'model_versions',
      'request_deadline_notices', 'webhook_attempts', 'webhook_deliveries', 'webhook_subscriptions',
    ]);
    for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    assert.deepEqual(await tables(ds), []);
    const functions: unknown[] = await ds.query(`SELECT proname FROM pg_proc WHERE proname IN ('event_log_forbid_change', 'api_tokens_notify_change')`);
    assert.equal(functions.length, 0, 'down removes the trigger function too');
    await ds.runMigrations({ transaction: 'each' });
    assert.equal((await tables(ds)).length, 12);
  });

  it('a lineage must state its re-forget, retention and serving settings (no column defaults), within their ranges', async () => {
    // serving_kind is stated in every insert but the one that leaves it out.
    const insert = (name: string, columns: string, values: string) =>
      ds.query(`INSERT INTO model_lineages (name, base_model, dataset_path, lora_config, strategy, method, hyper_parameters, batching_window_seconds, gate_policy, gate_policy_version${columns}) VALUES ($1, '{}', '/d', '{}', 'SEQUENTIAL', 'ga', '{}', 0, '{}', 1${values})`, [name]);
    await assert.rejects(insert('no-passes', ', reforget_above_accuracy, profile_retention_days, serving_kind', ", 0.2, 30, 'VLLM'"), /null value in column "reforget_passes"/);
    await assert.rejects(insert('no-above', ', reforget_passes, profile_retention_days, serving_kind', ", 3, 30, 'VLLM'"), /null value in column "reforget_above_accuracy"/);
    await assert.rejects(insert('no-retention', ', reforget_passes, reforget_above_accuracy, serving_kind', ", 3, 0.2, 'VLLM'"), /null value in column "profile_retention_days"/);
    await assert.rejects(insert('no-kind', ', reforget_passes, reforget_above_accuracy, profile_retention_days', ', 3, 0.2, 30'), /null value in column "serving_kind"/);
    await assert.rejects(insert('bad-kind', ', reforget_passes, reforget_above_accuracy, profile_retention_days, serving_kind', ", 3, 0.2, 30, 'TGI'"), /check constraint/);
    await insert('ranges', ', reforget_passes, reforget_above_accuracy, profile_retention_days, serving_kind', ", 5, 0, 0, 'ONNX_RUNTIME'");
    for (const bad of ['reforget_passes = 6', 'reforget_passes = -1', 'reforget_above_accuracy = 1', 'reforget_above_accuracy = -0.1', 'profile_retention_days = -1', 'profile_retention_days = 366']) {
      await assert.rejects(ds.query(`UPDATE model_lineages SET ${bad} WHERE name = 'ranges'`), /check constraint/, bad);
    }
    await ds.query(`DELETE FROM model_lineages WHERE name = 'ranges'`);
  });

  it('a lineage made before the retention window existed gets the default window', async () => {
    await undoThrough('ProfileRetention1765100000000');
    await ds.query(`INSERT INTO model_lineages (name, base_model, dataset_path, lora_config, strategy, method, hyper_parameters, batching_window_seconds, reforget_passes, reforget_above_accuracy, gate_policy, gate_policy_version) VALUES ('older', '{}', '/d', '{}', 'SEQUENTIAL', 'ga', '{}', 0, 3, 0.2, '{}', 1)`);
    await ds.runMigrations({ transaction: 'each' });
    const [row] = await ds.query(`SELECT profile_retention_days FROM model_lineages WHERE name = 'older'`);
    assert.equal(row.profile_retention_days, DEFAULT_PROFILE_RETENTION_DAYS);
    await ds.query(`DELETE FROM model_lineages WHERE name = 'older'`);
  });

  it('a lineage made before serving kinds existed is served by the service itself; SERVING tokens exist from then on', async () => {
    await undoThrough('Serving1765200000000');
    await ds.query(`INSERT INTO model_lineages (name, base_model, dataset_path, lora_config, strategy, method, hyper_parameters, batching_window_seconds, reforget_passes, reforget_above_accuracy, profile_retention_days, gate_policy, gate_policy_version) VALUES ('older', '{}', '/d', '{}', 'SEQUENTIAL', 'ga', '{}', 0, 3, 0.2, 30, '{}', 1)`);
    await assert.rejects(ds.query(`INSERT INTO api_tokens (token_sha256, role, owner) VALUES (repeat('a', 64), 'SERVING', 'x')`), /check constraint/);
    await ds.runMigrations({ transaction: 'each' });
    const [row] = await ds.query(`SELECT serving_kind FROM model_lineages WHERE name = 'older'`);
    assert.equal(row.serving_kind, DEFAULT_SERVING_KIND);
    await ds.query(`INSERT INTO api_tokens (token_sha256, role, owner) VALUES (repeat('a', 64), 'SERVING', 'x')`);
    await ds.query(`DELETE FROM api_tokens WHERE owner = 'x'`);
    await ds.query(`DELETE FROM model_lineages WHERE name = 'older'`);
  });

  it('the intake outbox read has a partial index over stored, unqueued requests', async () => {
    const [index] = await ds.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'deletion_requests_outbox'`);
    assert.match(index.indexdef, /WHERE \(status = 'RECEIVED'::text\)/);
  });

  it('tokens may carry an expiry and a last use, both optional', async () => {
    const rows: Array<{ column_name: string; is_nullable: string }> = await ds.query(`SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'api_tokens' AND column_name IN ('expires_at', 'last_used_at') ORDER BY column_name`);
    assert.deepEqual(rows.map((r) => [r.column_name, r.is_nullable]), [['expires_at', 'YES'], ['last_used_at', 'YES']]);
  });

  it('dataset people are FINETUNED, PRETRAINED or NEVER_SEEN', async () => {
    await ds.query(`INSERT INTO model_lineages (name, base_model, dataset_path, lora_config, strategy, method, hyper_parameters, batching_window_seconds, reforget_passes, reforget_above_accuracy, profile_retention_days, gate_policy, gate_policy_version, serving_kind) VALUES ('with-never-seen', '{}', '/d', '{}', 'SEQUENTIAL', 'ga', '{}', 0, 3, 0.2, 30, '{}', 1, 'ONNX_RUNTIME')`);
    await ds.query(`INSERT INTO dataset_subjects (lineage, id, name, knowledge) VALUES ('with-never-seen', 'n001', 'Disa Pujiador', 'NEVER_SEEN')`);
    await assert.rejects(ds.query(`INSERT INTO dataset_subjects (lineage, id, name, knowledge) VALUES ('with-never-seen', 'x', 'X', 'UNKNOWN')`), /check constraint/);
    await ds.query(`DELETE FROM dataset_subjects WHERE lineage = 'with-never-seen'`);
    await ds.query(`DELETE FROM model_lineages WHERE name = 'with-never-seen'`);
  });

  it('the event log refuses UPDATE, DELETE and TRUNCATE', async () => {
    await ds.query(`INSERT INTO event_log (occurred_at, actor, type, entity_type, entity_id, data, prev_hash, hash) VALUES (now(), 'a', 't', 'request', 'x', '{}', $1, $2)`, ['0'.repeat(64), '1'.repeat(64)]);
    await assert.rejects(ds.query(`UPDATE event_log SET actor = 'mallory'`), /append-only/);
    await assert.rejects(ds.query(`DELETE FROM event_log`), /append-only/);
    await assert.rejects(ds.query(`TRUNCATE event_log`), /append-only/);
  });

  it('enforces one idempotency key per requester', async () => {
    await ds.query(`INSERT INTO model_lineages (name, base_model, dataset_path, lora_config, strategy, method, hyper_parameters, batching_window_seconds, reforget_passes, reforget_above_accuracy, profile_retention_days, gate_policy, gate_policy_version, serving_kind) VALUES ('l', '{}', '/d', '{}', 'SEQUENTIAL', 'ga', '{}', 0, 3, 0.2, 30, '{}', 1, 'ONNX_RUNTIME')`);
    const insert = (id: string, requester: string) =>
      ds.query(`INSERT INTO deletion_requests (id, requester, idempotency_key, payload_digest, lineage, legal_basis, status, received_at, due_at, updated_at) VALUES ($1, $2, 'k', $3, 'l', 'b', 'RECEIVED', now(), now(), now())`, [id, requester, 'a'.repeat(64)]);
    await insert('00000000-0000-4000-8000-000000000001', 'alice');
    await insert('00000000-0000-4000-8000-000000000002', 'bob');
    await assert.rejects(insert('00000000-0000-4000-8000-000000000003', 'alice'), /duplicate key/);
  });
});
