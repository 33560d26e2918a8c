import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Serving the champion: the SERVING role (model endpoints and adapter downloads only), and each lineage's serving
 * kind, the model server its adapters are made for, which bounds its LoRA targets (src/lineages/domain/serving-kind.ts).
 */
export class Serving1765200000000 implements MigrationInterface {
  name = 'Serving1765200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check');
    await db.query(`ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('REQUESTER', 'OPERATOR', 'AUDITOR', 'SERVING'))`);
    // Lineages made before this migration are served by the service itself, which loads every target; then the default
    // goes, as for every other setting: the service states it (contracts/unlearning-defaults.json is its one source).
    await db.query(`ALTER TABLE model_lineages ADD COLUMN serving_kind text NOT NULL DEFAULT 'ONNX_RUNTIME' CHECK (serving_kind IN ('ONNX_RUNTIME', 'VLLM', 'TRANSFORMERS'))`);
    await db.query('ALTER TABLE model_lineages ALTER COLUMN serving_kind DROP DEFAULT');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE model_lineages DROP COLUMN serving_kind');
    // The old constraint has no SERVING: such tokens go with the role (their issue and revocation stay in the chain).
    await db.query(`DELETE FROM api_tokens WHERE role = 'SERVING'`);
    await db.query('ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check');
    await db.query(`ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('REQUESTER', 'OPERATOR', 'AUDITOR'))`);
  }
}
