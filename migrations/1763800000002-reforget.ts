import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Re-forgetting (workflows/lineage.workflow.ts): how many extra unlearning passes a lineage may run on
 * forgotten dataset people its audit still finds above the PULSE goal, and on each version the people
 * its passes re-forgot, which later operations hold where that version had them. Existing lineages get
 * 0 passes and existing versions none: nothing changes for them.
 */
export class Reforget1763800000002 implements MigrationInterface {
  name = 'Reforget1763800000002';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE model_lineages ADD COLUMN reforget_passes integer NOT NULL DEFAULT 0 CHECK (reforget_passes BETWEEN 0 AND 5)`);
    await db.query(`ALTER TABLE model_versions ADD COLUMN reforgotten_subject_ids text[] NOT NULL DEFAULT '{}'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE model_versions DROP COLUMN reforgotten_subject_ids`);
    await db.query(`ALTER TABLE model_lineages DROP COLUMN reforget_passes`);
  }
}
