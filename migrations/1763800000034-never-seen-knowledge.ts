import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dataset people the model was never trained on (knowledge NEVER_SEEN, contracts/dataset.schema.json): the
 * reference a forgotten person is compared with. Existing rows keep their knowledge.
 */
export class NeverSeenKnowledge1763800000034 implements MigrationInterface {
  name = 'NeverSeenKnowledge1763800000034';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE dataset_subjects DROP CONSTRAINT dataset_subjects_knowledge_check`);
    await db.query(`ALTER TABLE dataset_subjects ADD CONSTRAINT dataset_subjects_knowledge_check CHECK (knowledge IN ('FINETUNED', 'PRETRAINED', 'NEVER_SEEN'))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM dataset_subjects s WHERE knowledge = 'NEVER_SEEN' AND NOT EXISTS (SELECT 1 FROM deletion_requests r WHERE r.lineage = s.lineage AND r.dataset_subject_id = s.id)`);
    await db.query(`ALTER TABLE dataset_subjects DROP CONSTRAINT dataset_subjects_knowledge_check`);
    await db.query(`ALTER TABLE dataset_subjects ADD CONSTRAINT dataset_subjects_knowledge_check CHECK (knowledge IN ('FINETUNED', 'PRETRAINED'))`);
  }
}
