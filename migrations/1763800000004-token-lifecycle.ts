import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tokens can expire, and operators see when each was last used (recorded at most once a minute per
 * token, so authentication does not write on every call).
 */
export class TokenLifecycle1763800000004 implements MigrationInterface {
  name = 'TokenLifecycle1763800000004';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz, ADD COLUMN last_used_at timestamptz`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE api_tokens DROP COLUMN last_used_at, DROP COLUMN expires_at`);
  }
}
