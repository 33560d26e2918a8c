// One embedded Postgres per test file, in a fresh temp dir (initdb + start is ~1.5 s).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';

/**
 * For before() hooks that start Postgres: node:test puts no limit on a hook (a suite's timeout does
 * not cover its hooks), and startEmbeddedPostgres gives up after 120 s, so its message comes first.
 */
export const START_HOOK_TIMEOUT_MS = 180_000;

export interface TestPostgres {
  /** The app role's connection (what the service uses). */
  url: string;
  /** The superuser's, for what a test needs beyond the app's rights (CHECKPOINT). */
  adminUrl: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-test-'));
  const pg = await startEmbeddedPostgres(path.join(dir, 'postgres')).catch((err: unknown) => {
    fs.rmSync(dir, { recursive: true, force: true }); // the caller gets no stop() to do it
    throw err;
  });
  return {
    url: pg.url,
    adminUrl: pg.adminUrl,
    dir,
    async stop() {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one statement as the cluster's superuser. */
export async function adminQuery(adminUrl: string, sql: string): Promise<unknown[]> {
  const { Client } = require('pg') as { Client: new (o: { connectionString: string }) => { connect(): Promise<void>; query(q: string): Promise<{ rows: unknown[] }>; end(): Promise<void> } };
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}
