import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { createApp } from '../../src/app.module';
import { loadConfig } from '../../src/config/config';
import { GqlClient } from '../support/gql';
import { RecordingQueue, recordingQueueModule } from '../support/recording-queue';

describe('embedded default start (no DATABASE_URL, no key)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-start-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  /** What the app logs while it starts (Nest's console logger writes to stdout). */
  let logged = '';
  async function boot() {
    const config = loadConfig({ LETHE_DATA_DIR: path.join(root, '.data') }, root);
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged += String(chunk);
      return (write as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    }) as typeof process.stdout.write;
    const app = await createApp(config, { orchestration: recordingQueueModule(new RecordingQueue()), logger: ['log', 'error'] }).finally(() => {
      process.stdout.write = write;
    });
    await app.listen(0, '127.0.0.1');
    return { app, config, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
  }

  it('starts embedded Postgres (also as root), creates key and operator token once, mode 600', async () => {
    const first = await boot();
    const token = fs.readFileSync(first.config.operatorTokenFile, 'utf8').trim();
    const key = fs.readFileSync(first.config.encryptionKeyFile, 'utf8');
    try {
      assert.equal(fs.statSync(first.config.operatorTokenFile).mode & 0o777, 0o600);
      assert.ok(logged.includes(first.config.operatorTokenFile), 'the log says where the token is');
      assert.ok(!logged.includes(token), 'the log never shows the token');
      assert.equal(fs.statSync(first.config.encryptionKeyFile).mode & 0o777, 0o600);
      assert.ok(fs.existsSync(path.join(root, '.data', 'postgres', 'PG_VERSION')));
      const result = await new GqlClient(first.url, token).ok('{ verifyEventChain { valid checkedEvents } }');
      assert.deepEqual(result.verifyEventChain, { valid: true, checkedEvents: 1 });
    } finally {
      await first.app.close();
    }
    const second = await boot();
    try {
      assert.equal(fs.readFileSync(second.config.operatorTokenFile, 'utf8').trim(), token, 'no second bootstrap token');
      assert.equal(fs.readFileSync(second.config.encryptionKeyFile, 'utf8'), key, 'the key is kept');
      const health = await fetch(`${second.url}/healthz`);
      assert.equal(health.status, 200);
      const [{ n }] = await second.app.get((await import('typeorm')).DataSource).query('SELECT count(*)::int AS n FROM api_tokens');
      assert.equal(n, 1);
    } finally {
      await second.app.close();
    }
  });
});
