import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DataCipher, canonicalJson, loadOrCreateKeyFile } from '../../src/common/crypto';
import { AppError } from '../../src/common/errors';
import { ConfigError, loadConfig, parseEncryptionKey } from '../../src/config/config';
import { ChainVerifier, eventHash, GENESIS_HASH, LoggedEvent } from '../../src/events/domain/event';
import { planRollback } from '../../src/lineages/domain/version-rules';
import { ModelVersion } from '../../src/lineages/domain/lineage';
import { inspectImage } from '../../src/requests/domain/image-check';
import { assertTransition, canTransition, REQUEST_STATUSES } from '../../src/requests/domain/request-status';
import { validateSubmission } from '../../src/requests/domain/submission';
import { makeJpegHeader, makePng } from '../support/images';

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError, got ${err}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('config', () => {
  it('applies the defaults', () => {
    const config = loadConfig({}, '/srv/lethe');
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.deepEqual(config.database, { kind: 'embedded', dataDir: '/srv/lethe/.data/postgres' });
    assert.equal(config.encryptionKey, null);
    assert.equal(config.temporalAddress, null);
  });

  for (const [variable, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x@y/z'],
    ['LETHE_ENCRYPTION_KEY', 'c2hvcnQ='],
    ['TEMPORAL_ADDRESS', 'no-port'],
  ]) {
    it(`rejects ${variable}=${value} naming the variable`, () => {
      assert.throws(() => loadConfig({ [variable]: value }), (err: unknown) => err instanceof ConfigError && err.variable === variable && err.message.includes(variable));
    });
  }

  it('accepts a 32-byte key in hex or base64', () => {
    const key = Buffer.alloc(32, 7);
    assert.deepEqual(loadConfig({ LETHE_ENCRYPTION_KEY: key.toString('hex') }).encryptionKey, key);
    assert.deepEqual(loadConfig({ LETHE_ENCRYPTION_KEY: key.toString('base64') }).encryptionKey, key);
  });
});

describe('request lifecycle rules', () => {
  it('allows the main path and refuses skipping steps', () => {
    const path = ['RECEIVED', 'QUEUED', 'UNLEARNING', 'AUDITING', 'COMPLETED', 'REOPENED', 'QUEUED'] as const;
    for (let i = 1; i < path.length; i++) assert.ok(canTransition(path[i - 1], path[i]), `${path[i - 1]} -> ${path[i]}`);
    assert.equal(canTransition('QUEUED', 'COMPLETED'), false);
    assert.equal(canTransition('UNLEARNING', 'CANCELED'), false, 'cancel only before unlearning');
    assert.equal(errorOf(() => assertTransition('r1', 'RECEIVED', 'AUDITING')).code, 'CONFLICT');
  });

  it('keeps terminal states terminal', () => {
    for (const terminal of ['REJECTED', 'FAILED', 'CANCELED'] as const) {
      for (const to of REQUEST_STATUSES) assert.equal(canTransition(terminal, to), false, `${terminal} -> ${to}`);
    }
  });
});

describe('image check', () => {
  it('reads PNG and JPEG dimensions from their headers', () => {
    assert.deepEqual(inspectImage(makePng(7, 5)), { format: 'png', width: 7, height: 5 });
    assert.deepEqual(inspectImage(makeJpegHeader(640, 480)), { format: 'jpeg', width: 640, height: 480 });
  });

  it('rejects other formats, truncation and zero sizes', () => {
    assert.match(inspectImage(Buffer.from('GIF89a......')) as string, /not a PNG or JPEG/);
    assert.match(inspectImage(makePng(4, 4).subarray(0, 20)) as string, /truncated/);
    assert.match(inspectImage(makePng(0, 4)) as string, /dimensions/);
  });
});

describe('submission validation', () => {
  const base = { lineage: 'main', idempotencyKey: 'k', legalBasis: 'GDPR Art. 17(1)(a)' };

  it('needs exactly one of datasetSubjectId and profile', () => {
    assert.equal(errorOf(() => validateSubmission({ ...base, subject: {} })).field, 'input.subject');
    const both = { datasetSubjectId: 's1', profile: { name: 'A', facts: [{ question: 'q', answer: 'a' }] } };
    assert.equal(errorOf(() => validateSubmission({ ...base, subject: both })).field, 'input.subject');
  });

  it('names the bad image and tells too large from malformed', () => {
    const png = makePng(2, 2).toString('base64');
    const notImage = Buffer.from('hello world!').toString('base64');
    const e1 = errorOf(() => validateSubmission({ ...base, subject: { profile: { name: 'A', images: [png, notImage] } } }));
    assert.deepEqual([e1.code, e1.field], ['BAD_USER_INPUT', 'input.subject.profile.images[1]']);
    const huge = Buffer.alloc(5 * 1024 * 1024 + 1).toString('base64');
    const e2 = errorOf(() => validateSubmission({ ...base, subject: { profile: { name: 'A', images: [huge] } } }));
    assert.deepEqual([e2.code, e2.field], ['PAYLOAD_TOO_LARGE', 'input.subject.profile.images[0]']);
    const e3 = errorOf(() => validateSubmission({ ...base, subject: { profile: { name: 'A', images: Array(11).fill(png) } } }));
    assert.deepEqual([e3.code, e3.field], ['PAYLOAD_TOO_LARGE', 'input.subject.profile.images']);
  });

  it('gives the same canonical payload for the same request', () => {
    const a = validateSubmission({ ...base, subject: { datasetSubjectId: 's1' }, note: ' x ' });
    const b = validateSubmission({ ...base, idempotencyKey: 'other', subject: { datasetSubjectId: 's1', profile: null }, note: 'x' });
    assert.equal(a.canonicalPayload, b.canonicalPayload);
  });
});

describe('event chain', () => {
  const KEY = Buffer.alloc(32, 7);
  function chain(n: number): LoggedEvent[] {
    const events: LoggedEvent[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= n; seq++) {
      const body = { occurredAt: new Date(1_700_000_000_000 + seq), actor: 'a', type: 't', entityType: 'request' as const, entityId: `r${seq}`, reason: null, data: { seq } };
      const hash = eventHash(KEY, prev, body);
      events.push({ ...body, seq, prevHash: prev, hash });
      prev = hash;
    }
    return events;
  }

  function verify(events: LoggedEvent[]) {
    const verifier = new ChainVerifier(KEY);
    events.forEach((e) => verifier.push(e));
    return verifier.result();
  }

  it('verifies an intact chain and finds the altered or removed row', () => {
    const events = chain(5);
    assert.equal(verify(events).valid, true);
    const altered = events.map((e) => (e.seq === 3 ? { ...e, actor: 'mallory' } : e));
    assert.deepEqual([verify(altered).valid, verify(altered).firstInvalidSeq], [false, 3]);
    const removed = events.filter((e) => e.seq !== 2);
    assert.deepEqual([verify(removed).valid, verify(removed).firstInvalidSeq], [false, 3]);
  });

  it('hashes canonical JSON, independent of key order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":1}');
  });
});

describe('encryption', () => {
  it('round-trips and refuses another row id or a flipped bit', () => {
    const cipher = new DataCipher(Buffer.alloc(32, 1));
    const sealed = cipher.seal(Buffer.from('Jane Roe'), 'request-1');
    assert.equal(cipher.open(sealed, 'request-1').toString(), 'Jane Roe');
    assert.throws(() => cipher.open(sealed, 'request-2'));
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] ^= 1;
    assert.throws(() => cipher.open({ ...sealed, ciphertext: flipped }, 'request-1'));
  });
});

describe('rollback rules', () => {
  const version = (number: number, status: ModelVersion['status']): ModelVersion => ({
    id: `v${number}`, lineage: 'l', number, parentNumber: number - 1, adapterUri: null, adapterSha256: null, method: null, hyperParameters: null, requestIds: [], reforgottenSubjectIds: [], status, statusReason: null, createdAt: new Date(),
  });
  const versions = [version(0, 'SUPERSEDED'), version(1, 'SUPERSEDED'), version(2, 'REJECTED'), version(3, 'PROMOTED')];

  it('rolls back every later, non-rejected version', () => {
    const plan = planRollback(versions, 3, 1);
    assert.equal(plan.target.number, 1);
    assert.deepEqual(plan.rollBack.map((v) => v.number), [3]);
  });

  it('refuses a rejected, missing or non-earlier target naming toVersion', () => {
    for (const to of [2, 9, 3]) {
      const err = errorOf(() => planRollback(versions, 3, to));
      assert.deepEqual([err.code, err.field], ['BAD_USER_INPUT', 'toVersion']);
    }
  });
});

describe('key files', () => {
  it('processes starting at once agree on one key, mode 600, and leave nothing else behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-keys-'));
    const file = path.join(dir, 'chain.key');
    const crypto = require.resolve('../../src/common/crypto');
    const script = `process.stdout.write(require(${JSON.stringify(crypto)}).loadOrCreateKeyFile(${JSON.stringify(file)}, (raw) => Buffer.from(raw.trim(), 'base64')).toString('hex'))`;
    const keys = await Promise.all(Array.from({ length: 6 }, () => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script]);
      let out = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    })));
    assert.equal(new Set(keys).size, 1);
    assert.equal(loadOrCreateKeyFile(file, parseEncryptionKey).toString('hex'), keys[0]);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(dir), ['chain.key']);
    fs.rmSync(dir, { recursive: true });
  });
});
