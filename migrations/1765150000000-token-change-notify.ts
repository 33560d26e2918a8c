import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Any change to who a token is or whether it is valid (revocation, expiry, deletion) is pushed to every API process,
 * which evicts the token from its cache of valid tokens (src/auth/domain/principal-cache.ts).
 */
export class TokenChangeNotify1765150000000 implements MigrationInterface {
  name = 'TokenChangeNotify1765150000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION api_tokens_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('lethe_api_token_changed', OLD.id::text);
        RETURN NULL;
      END $$`);
    await db.query(
      `CREATE TRIGGER api_tokens_changed AFTER UPDATE OF token_sha256, role, owner, revoked_at, expires_at OR DELETE ON api_tokens FOR EACH ROW EXECUTE FUNCTION api_tokens_notify_change()`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TRIGGER api_tokens_changed ON api_tokens');
    await db.query('DROP FUNCTION api_tokens_notify_change()');
  }
}
