// firstUntraversableDir on real directories: it is given the uid/gids to judge for, so the cases
// hold whoever runs the test (root or not), with directories this process owns.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { APP_ROLE, credentialsFile, firstUntraversableDir, RunningPostgres, startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { adminQuery, START_HOOK_TIMEOUT_MS } from '../support/postgres';

describe('firstUntraversableDir (can the postgres user reach its files?)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-access-'));
  fs.chmodSync(root, 0o755);
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const { uid: owner, gid: group } = fs.statSync(root);
  const stranger = owner + 1;
  const strangerGids = [group + 1];

  function dirs(relative: string, mode: number): string {
    const dir = path.join(root, relative);
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, mode);
    return dir;
  }

  it('the temp root itself is reachable (the other cases rely on it)', () => {
    assert.equal(firstUntraversableDir(root, stranger, strangerGids), null);
  });

  it('0755 all the way: reachable by anyone', () => {
    dirs('open', 0o755);
    assert.equal(firstUntraversableDir(dirs('open/leaf', 0o755), stranger, strangerGids), null);
  });

  it('a 0700 parent (as from mktemp -d) blocks another user, names that directory and its mode', () => {
    const closed = dirs('closed', 0o700);
    const leaf = dirs('closed/leaf', 0o755);
    assert.deepEqual(firstUntraversableDir(leaf, stranger, strangerGids), { dir: closed, mode: 0o700, who: 'o' });
    assert.equal(firstUntraversableDir(leaf, owner, []), null, 'the owner gets through');
  });

  it('names the first blocking directory from the root down, the target itself included', () => {
    const outer = dirs('nested', 0o700);
    dirs('nested/inner', 0o700);
    assert.equal(firstUntraversableDir(path.join(outer, 'inner'), stranger, strangerGids)?.dir, outer);
    const target = dirs('target-closed', 0o700);
    assert.equal(firstUntraversableDir(target, stranger, strangerGids)?.dir, target);
  });

  it('group x lets a member through, not a stranger', () => {
    dirs('group-x', 0o710);
    const leaf = dirs('group-x/leaf', 0o755);
    assert.equal(firstUntraversableDir(leaf, stranger, [group]), null);
    assert.equal(firstUntraversableDir(leaf, stranger, strangerGids)?.who, 'o');
  });

  it("only the class that applies counts: others' x does not help a member of a group without x", () => {
    const groupClosed = dirs('group-closed', 0o701);
    const leaf = dirs('group-closed/leaf', 0o755);
    assert.equal(firstUntraversableDir(leaf, stranger, strangerGids), null);
    assert.deepEqual(firstUntraversableDir(leaf, stranger, [group]), { dir: groupClosed, mode: 0o701, who: 'g' });
  });
});

describe('the embedded cluster: generated passwords, and the service connects as a role that is not a superuser', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-pg-roles-'));
  const dataDir = path.join(root, '.data', 'postgres');
  let pg: RunningPostgres | undefined;
  before(async () => {
    pg = await startEmbeddedPostgres(dataDir);
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => {
    await pg?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const asApp = async <T>(work: (ds: DataSource) => Promise<T>): Promise<T> => {
    const ds = await new DataSource({ type: 'postgres', url: pg!.url }).initialize();
    try {
      return await work(ds);
    } finally {
      await ds.destroy();
    }
  };

  it('the passwords are random and kept in the data dir, readable by its owner only', () => {
    const file = credentialsFile(dataDir);
    assert.equal(path.dirname(file), path.join(root, '.data'));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const { adminPassword, appPassword } = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.ok(adminPassword.length >= 32 && appPassword.length >= 32 && adminPassword !== appPassword);
    assert.ok(pg!.url.includes(`${APP_ROLE}:${encodeURIComponent(appPassword)}@`));
    assert.doesNotMatch(pg!.url + pg!.adminUrl, /lethe-local/);
  });

  it('the app role owns its tables but is not a superuser, and cannot run COPY ... PROGRAM or read server files', async () => {
    await asApp(async (ds) => {
      await ds.query('CREATE TABLE owned_by_app (id int)');
      const [owner] = await ds.query(`SELECT tableowner FROM pg_tables WHERE tablename = 'owned_by_app'`);
      assert.equal(owner.tableowner, APP_ROLE);
      const [role] = await ds.query('SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user');
      assert.deepEqual(role, { rolsuper: false, rolcreaterole: false, rolcreatedb: false });
      const marker = path.join(root, 'copy-program-ran');
      await assert.rejects(ds.query(`COPY (SELECT 1) TO PROGRAM 'touch ${marker}'`), /permission denied|pg_execute_server_program/);
      assert.equal(fs.existsSync(marker), false);
      await assert.rejects(ds.query(`SELECT pg_read_file('postgresql.conf')`), /permission denied/);
      await assert.rejects(ds.query(`ALTER ROLE ${APP_ROLE} SUPERUSER`), /permission denied|must be superuser/);
    });
  });

  it('a cluster from before the generated passwords (fixed superuser password, tables it owns) is converted at the next start', { timeout: 120_000 }, async () => {
    await adminQuery(pg!.adminUrl, 'CREATE TABLE legacy_table (id serial PRIMARY KEY)');
    await adminQuery(pg!.adminUrl, `ALTER ROLE lethe PASSWORD 'lethe-local'`);
    await pg!.stop();
    fs.rmSync(credentialsFile(dataDir));
    pg = await startEmbeddedPostgres(dataDir);
    const { adminPassword } = JSON.parse(fs.readFileSync(credentialsFile(dataDir), 'utf8'));
    assert.notEqual(adminPassword, 'lethe-local');
    await assert.rejects(adminQuery(pg.adminUrl.replace(encodeURIComponent(adminPassword), 'lethe-local'), 'SELECT 1'), /password authentication failed/);
    await asApp(async (ds) => {
      const [owner] = await ds.query(`SELECT tableowner FROM pg_tables WHERE tablename = 'legacy_table'`);
      assert.equal(owner.tableowner, APP_ROLE);
      await ds.query('INSERT INTO legacy_table DEFAULT VALUES'); // its sequence moved with it
    });
  });
});
