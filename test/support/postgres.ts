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
  url: string;
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
    dir,
    async stop() {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
