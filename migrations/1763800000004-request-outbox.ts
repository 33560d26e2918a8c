import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The intake outbox: RECEIVED requests are stored but not yet queued on their lineage workflow, and
 * the API reads them every second (src/requests/request-queuer.service.ts). A partial index keeps
 * that read small however many requests the table holds.
 */
export class RequestOutbox1763800000004 implements MigrationInterface {
  name = 'RequestOutbox1763800000004';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX deletion_requests_outbox ON deletion_requests (received_at, id) WHERE status = 'RECEIVED'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX deletion_requests_outbox`);
  }
}
