// One embedded Postgres per test file, in a fresh temp dir (initdb + start is ~1.5 s).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';

export interface TestPostgres {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-test-'));
  const pg = await startEmbeddedPostgres(path.join(dir, 'postgres'));
  return {
    url: pg.url,
    dir,
    async stop() {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
