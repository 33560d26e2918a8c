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

  /** Reverts the migrations after `name`, then `name` itself. */
  const undoThrough = async (name: string): Promise<void> => {
    const index = MIGRATIONS.findIndex((m) => m.name === name);
    assert.ok(index >= 0, `${name} is a migration`);
    for (let i = MIGRATIONS.length; i > index; i--) await ds.undoLastMigration({ transaction: 'each' });
  };

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

  it('reforget: existing lineages get 0 passes and existing versions no re-forgotten people, the range is enforced, down drops both', async () => {
    const columns = async () =>
      ((await ds.query(
        `SELECT column_name FROM information_schema.columns WHERE (table_name, column_name) IN (('model_lineages', 'reforget_passes'), ('model_versions', 'reforgotten_subject_ids'))`,
      )) as unknown[]).length;
    assert.equal(await columns(), 2);
    await undoThrough('Reforget1763800000002');
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
    await undoThrough('ReforgetAbove1763800000003');
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

  it('never-seen people: dataset subjects may be NEVER_SEEN after it, not before; down removes those no request names', async () => {
    const lineage = `INSERT INTO model_lineages (name, base_model, dataset_path, lora_config, strategy, method, hyper_parameters, batching_window_seconds, gate_policy, gate_policy_version) VALUES ('with-never-seen', '{}', '/d', '{}', 'SEQUENTIAL', 'ga', '{}', 0, '{}', 1)`;
    await ds.query(lineage);
    await ds.query(`INSERT INTO dataset_subjects (lineage, id, name, knowledge) VALUES ('with-never-seen', 'n001', 'Disa Pujiador', 'NEVER_SEEN')`);
    await assert.rejects(ds.query(`INSERT INTO dataset_subjects (lineage, id, name, knowledge) VALUES ('with-never-seen', 'x', 'X', 'UNKNOWN')`), /check constraint/);
    await undoThrough('NeverSeenKnowledge1763800000034');
    assert.equal(((await ds.query(`SELECT 1 FROM dataset_subjects WHERE knowledge = 'NEVER_SEEN'`)) as unknown[]).length, 0, 'down removes unnamed never-seen people');
    await assert.rejects(ds.query(`INSERT INTO dataset_subjects (lineage, id, name, knowledge) VALUES ('with-never-seen', 'n002', 'Y', 'NEVER_SEEN')`), /check constraint/);
    await ds.runMigrations({ transaction: 'each' });
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
    await ds.query(`INSERT INTO model_lineages (name, base_model, dataset_path, lora_config, strategy, method, hyper_parameters, batching_window_seconds, gate_policy, gate_policy_version) VALUES ('l', '{}', '/d', '{}', 'SEQUENTIAL', 'ga', '{}', 0, '{}', 1)`);
    const insert = (id: string, requester: string) =>
      ds.query(`INSERT INTO deletion_requests (id, requester, idempotency_key, payload_digest, lineage, legal_basis, status, received_at, due_at, updated_at) VALUES ($1, $2, 'k', $3, 'l', 'b', 'RECEIVED', now(), now(), now())`, [id, requester, 'a'.repeat(64)]);
    await insert('00000000-0000-4000-8000-000000000001', 'alice');
    await insert('00000000-0000-4000-8000-000000000002', 'bob');
    await assert.rejects(insert('00000000-0000-4000-8000-000000000003', 'alice'), /duplicate key/);
  });
});
