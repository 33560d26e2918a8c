import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The accuracy above which a re-forget pass takes a forgotten person, per lineage. Lineages created before
 * kept the PULSE goal itself, 0.4, as the limit: they keep it.
 */
export class ReforgetAbove1763800000003 implements MigrationInterface {
  name = 'ReforgetAbove1763800000003';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `ALTER TABLE model_lineages ADD COLUMN reforget_above_accuracy double precision NOT NULL DEFAULT 0.4 CHECK (reforget_above_accuracy >= 0 AND reforget_above_accuracy < 1)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE model_lineages DROP COLUMN reforget_above_accuracy`);
  }
}
