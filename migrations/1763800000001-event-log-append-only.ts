import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The event log is evidence: the database itself refuses to change or remove a row. */
export class EventLogAppendOnly1763800000001 implements MigrationInterface {
  name = 'EventLogAppendOnly1763800000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION event_log_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'event_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await db.query(`CREATE TRIGGER event_log_no_update_delete BEFORE UPDATE OR DELETE ON event_log FOR EACH ROW EXECUTE FUNCTION event_log_forbid_change()`);
    await db.query(`CREATE TRIGGER event_log_no_truncate BEFORE TRUNCATE ON event_log FOR EACH STATEMENT EXECUTE FUNCTION event_log_forbid_change()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER event_log_no_truncate ON event_log`);
    await db.query(`DROP TRIGGER event_log_no_update_delete ON event_log`);
    await db.query(`DROP FUNCTION event_log_forbid_change()`);
  }
}
