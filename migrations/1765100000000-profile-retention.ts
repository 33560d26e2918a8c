import type { MigrationInterface, QueryRunner } from 'typeorm';

/** How long a completed inline profile stays encrypted so that a rollback can unlearn the person again (ModelLineage.profileRetentionDays), and until when each one is kept. */
export class ProfileRetention1765100000000 implements MigrationInterface {
  name = 'ProfileRetention1765100000000';

  async up(db: QueryRunner): Promise<void> {
    // Lineages made before this migration get the window new lineages get by default; then the default goes, as for
    // every other setting: the service states it (src/lineages/domain/lineage.ts is its one source).
    await db.query(`ALTER TABLE model_lineages ADD COLUMN profile_retention_days integer NOT NULL DEFAULT 30 CHECK (profile_retention_days BETWEEN 0 AND 365)`);
    await db.query('ALTER TABLE model_lineages ALTER COLUMN profile_retention_days DROP DEFAULT');
    // Set when a request completes and its forget set stays for a rollback; the retention sweep purges it then.
    await db.query('ALTER TABLE forget_sets ADD COLUMN kept_until timestamptz');
    await db.query('CREATE INDEX forget_sets_kept_until ON forget_sets (kept_until) WHERE purged_at IS NULL AND kept_until IS NOT NULL');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE forget_sets DROP COLUMN kept_until');
    await db.query('ALTER TABLE model_lineages DROP COLUMN profile_retention_days');
  }
}
