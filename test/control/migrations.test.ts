import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../src/database/data-source';
import { MIGRATIONS } from '../../migrations';
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

  it('apply, revert one by one to nothing, and apply again', async () => {
    await ds.runMigrations({ transaction: 'each' });
    assert.deepEqual(await tables(ds), ['api_tokens', 'audit_results', 'dataset_subjects', 'deletion_requests', 'event_log', 'forget_sets', 'model_lineages', 'model_versions']);
    for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    assert.deepEqual(await tables(ds), []);
    const functions: unknown[] = await ds.query(`SELECT proname FROM pg_proc WHERE proname = 'event_log_forbid_change'`);
    assert.equal(functions.length, 0, 'down removes the trigger function too');
    await ds.runMigrations({ transaction: 'each' });
    assert.equal((await tables(ds)).length, 8);
  });

  it('request outbox: the read of stored, unqueued requests has a partial index; down drops it', async () => {
    const indexes = async () => ((await ds.query(`SELECT 1 FROM pg_indexes WHERE indexname = 'deletion_requests_outbox'`)) as unknown[]).length;
    assert.equal(MIGRATIONS[MIGRATIONS.length - 1].name, 'RequestOutbox1763800000004', 'the last migration');
    assert.equal(await indexes(), 1);
    await ds.undoLastMigration({ transaction: 'each' });
    assert.equal(await indexes(), 0);
    await ds.runMigrations({ transaction: 'each' });
    assert.equal(await indexes(), 1);
  });

  it('reforget: existing lineages get 0 passes and existing versions no re-forgotten people, the range is enforced, down drops both', async () => {
    const columns = async () =>
      ((await ds.query(
        `SELECT column_name FROM information_schema.columns WHERE (table_name, column_name) IN (('model_lineages', 'reforget_passes'), ('model_versions', 'reforgotten_subject_ids'))`,
      )) as unknown[]).length;
    assert.equal(MIGRATIONS[MIGRATIONS.length - 3].name, 'Reforget1763800000002', 'the reforget migration is the third from last');
    assert.equal(await columns(), 2);
    await ds.undoLastMigration({ transaction: 'each' });
    await ds.undoLastMigration({ transaction: 'each' });
    await ds.undoLastMigration({ transaction: 'each' });
    assert.equal(await columns(), 0, 'down drops the columns');
    await ds.query(`INSERT INTO model_lineages (name, base_model, dataset_path, lora_config, strategy, method, hyper_parameters, batching_window_seconds, gate_policy, gate_policy_version) VALUES ('before-reforget', '{}', '/d', '{}', 'SEQUENTIAL', 'ga', '{}', 0, '{}', 1)`);
    await ds.query(`INSERT INTO model_versions (lineage, number, status) VALUES ('before-reforget', 0, 'PROMOTED')`);
    await ds.runMigrations({ transaction: 'each' });
    const [row] = await ds.query(`SELECT reforget_passes FROM model_lineages WHERE name = 'before-reforget'`);
    assert.equal(row.reforget_passes, 0);
    const [version] = await ds.query(`SELECT reforgotten_subject_ids FROM model_versions WHERE lineage = 'before-reforget'`);
    assert.deepEqual(version.reforgotten_subject_ids, []);
    await ds.query(`UPDATE model_lineages SET reforget_passes = 5 WHERE name = 'before-reforget'`);
    await assert.rejects(ds.query(`UPDATE model_lineages SET reforget_passes = 6 WHERE name = 'before-reforget'`), /check constraint/);
    await assert.rejects(ds.query(`UPDATE model_lineages SET reforget_passes = -1 WHERE name = 'before-reforget'`), /check constraint/);
    await assert.rejects(ds.query(`UPDATE model_lineages SET reforget_passes = NULL WHERE name = 'before-reforget'`), /null value/);
    await ds.query(`DELETE FROM model_versions WHERE lineage = 'before-reforget'`);
    await ds.query(`DELETE FROM model_lineages WHERE name = 'before-reforget'`);
  });

  it('reforget above: existing lineages keep the PULSE goal (0.4) as their limit, the range is enforced, down drops it', async () => {
    const column = async () => ((await ds.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'model_lineages' AND column_name = 'reforget_above_accuracy'`)) as unknown[]).length;
    assert.equal(MIGRATIONS[MIGRATIONS.length - 2].name, 'ReforgetAbove1763800000003', 'the migration before last');
    await ds.undoLastMigration({ transaction: 'each' });
    await ds.undoLastMigration({ transaction: 'each' });
    assert.equal(await column(), 0, 'down drops the column');
    await ds.query(`INSERT INTO model_lineages (name, base_model, dataset_path, lora_config, strategy, method, hyper_parameters, batching_window_seconds, gate_policy, gate_policy_version) VALUES ('before-above', '{}', '/d', '{}', 'SEQUENTIAL', 'ga', '{}', 0, '{}', 1)`);
    await ds.runMigrations({ transaction: 'each' });
    const [row] = await ds.query(`SELECT reforget_above_accuracy FROM model_lineages WHERE name = 'before-above'`);
    assert.equal(row.reforget_above_accuracy, 0.4);
    await ds.query(`UPDATE model_lineages SET reforget_above_accuracy = 0 WHERE name = 'before-above'`);
    await assert.rejects(ds.query(`UPDATE model_lineages SET reforget_above_accuracy = 1 WHERE name = 'before-above'`), /check constraint/);
    await assert.rejects(ds.query(`UPDATE model_lineages SET reforget_above_accuracy = -0.1 WHERE name = 'before-above'`), /check constraint/);
    await ds.query(`DELETE FROM model_versions WHERE lineage = 'before-above'`);
    await ds.query(`DELETE FROM model_lineages WHERE name = 'before-above'`);
  });

  it('the event log refuses UPDATE, DELETE and TRUNCATE', async () => {
    await ds.query(`INSERT INTO event_log (occurred_at, actor, type, entity_type, entity_id, data, prev_hash, hash) VALUES (now(), 'a', 't', 'request', 'x', '{}', $1, $2)`, ['0'.repeat(64), '1'.repeat(64)]);
    await assert.rejects(ds.query(`UPDATE event_log SET actor = 'mallory'`), /append-only/);
    await assert.rejects(ds.query(`DELETE FROM event_log`), /append-only/);
    await assert.rejects(ds.query(`TRUNCATE event_log`), /append-only/);
  });

  it('enforces one idempotency key per requester', async () => {
    await ds.query(`INSERT INTO model_lineages (name, base_model, dataset_path, lora_config, strategy, method, hyper_parameters, batching_window_seconds, gate_policy, gate_policy_version) VALUES ('l', '{}', '/d', '{}', 'SEQUENTIAL', 'ga', '{}', 0, '{}', 1)`);
    const insert = (id: string, requester: string) =>
      ds.query(`INSERT INTO deletion_requests (id, requester, idempotency_key, payload_digest, lineage, legal_basis, status, received_at, due_at, updated_at) VALUES ($1, $2, 'k', $3, 'l', 'b', 'RECEIVED', now(), now(), now())`, [id, requester, 'a'.repeat(64)]);
    await insert('00000000-0000-4000-8000-000000000001', 'alice');
    await insert('00000000-0000-4000-8000-000000000002', 'bob');
    await assert.rejects(insert('00000000-0000-4000-8000-000000000003', 'alice'), /duplicate key/);
  });
});
