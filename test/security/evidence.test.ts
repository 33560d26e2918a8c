// The evidence chain against a client and against someone with write access to the database.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseEncryptionKey } from '../../src/config/config';
import { canonicalJson } from '../../src/common/crypto';
import { eventHash, GENESIS_HASH } from '../../src/events/domain/event';
import { startTestApp, TestApp, writeDataset, writeModelDir } from '../support/app';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { recordingQueueModule, RecordingQueue } from '../support/recording-queue';

const SUBMIT = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id } }`;
const CANCEL = `mutation($id: ID!, $reason: String!) { cancelDeletionRequest(id: $id, reason: $reason) { id status } }`;
const TOKEN = `mutation($owner: String!) { createApiToken(role: REQUESTER, owner: $owner) { token } }`;
const VERIFY = `{ verifyEventChain { valid checkedEvents firstInvalidSeq problem headHash } }`;

interface Row { seq: string; occurred_at: Date; actor: string; type: string; entity_type: string; entity_id: string; reason: string | null; data: Record<string, unknown> }

describe('the evidence chain (embedded Postgres, real app over HTTP)', () => {
  let t: TestApp;
  let key = 0;
  const input = (overrides: Record<string, unknown> = {}) => ({ lineage: 'main', idempotencyKey: `k${++key}`, legalBasis: 'GDPR Art. 17', subject: { datasetSubjectId: 's1' }, ...overrides });

  before(async () => {
    t = await startTestApp({ orchestration: recordingQueueModule(new RecordingQueue()) });
    const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), [{ id: 's1', name: 'Ada Fictional', knowledge: 'FINETUNED' }]);
    await t.operator.ok(`mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }`, {
      input: { name: 'main', baseModelPath: writeModelDir(path.join(t.postgres.dir, 'model')), datasetPath: dataset },
    });
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => t?.stop());

  it('text Postgres would store differently from what was hashed is BAD_USER_INPUT naming the field', async () => {
    const attacks: Array<[Record<string, unknown>, string]> = [
      [input({ note: 'hello\u0000world' }), 'input.note'],
      [input({ legalBasis: 'GDPR \uD800 Art. 17' }), 'input.legalBasis'],
      [input({ subject: { profile: { name: 'Ada \uDC00', facts: [{ question: 'Job?', answer: 'x' }] } } }), 'input.subject.profile.name'],
      [input({ subject: { profile: { name: 'Ada', facts: [{ question: 'Job?', answer: '\u0000' }] } } }), 'input.subject.profile.facts[0].answer'],
    ];
    for (const [attack, field] of attacks) {
      const error = await t.operator.fails(SUBMIT, { input: attack });
      assert.deepEqual([error.code, error.field], ['BAD_USER_INPUT', field]);
    }
    const { submitDeletionRequest: r } = await t.operator.ok(SUBMIT, { input: input({ note: 'a pair is fine: \uD83D\uDE00' }) });
    assert.deepEqual(Object.values(await t.operator.fails(CANCEL, { id: r.id, reason: 'bye \uDBFF' })).slice(0, 2), ['BAD_USER_INPUT', 'reason']);
    assert.equal((await t.operator.fails(TOKEN, { owner: 'mallory\u0000' })).field, 'owner');
    await t.operator.ok(CANCEL, { id: r.id, reason: 'withdrawn \uD83D\uDE00' });
    assert.equal((await t.operator.ok(VERIFY)).verifyEventChain.valid, true, 'no client text breaks the chain');
  });

  it('the chain is keyed outside the database: a rewritten log with a recomputed plain-SHA chain does not verify', async () => {
    assert.equal(fs.statSync(t.config.chainKeyFile).mode & 0o777, 0o600);
    const intact = (await t.operator.ok(VERIFY)).verifyEventChain;
    assert.equal(intact.valid, true);

    // Someone with write access rewrites history and recomputes every hash with plain SHA-256 (no key), which anyone with write access can do.
    const rows: Row[] = await t.dataSource.query('SELECT * FROM event_log ORDER BY seq');
    const payload = (r: Row) => ({ occurredAt: r.occurred_at, actor: r.actor, type: r.type, entityType: r.entity_type as 'request', entityId: r.entity_id, reason: r.reason, data: r.data });
    const rewrite = async (hash: (prev: string, r: Row) => string) => {
      await t.dataSource.query('ALTER TABLE event_log DISABLE TRIGGER USER');
      let prev = GENESIS_HASH;
      for (const row of rows) {
        const forged = row.actor === 'OPERATOR:bootstrap-operator' ? { ...row, actor: 'OPERATOR:someone-else' } : row;
        const h = hash(prev, forged);
        await t.dataSource.query('UPDATE event_log SET actor = $2, prev_hash = $3, hash = $4 WHERE seq = $1', [row.seq, forged.actor, prev, h]);
        prev = h;
      }
      await t.dataSource.query('ALTER TABLE event_log ENABLE TRIGGER USER');
    };
    await rewrite((prev, r) => createHash('sha256').update(prev + canonicalJson(payload(r))).digest('hex'));
    const forged = (await t.operator.ok(VERIFY)).verifyEventChain;
    assert.deepEqual([forged.valid, forged.firstInvalidSeq], [false, Number(rows[0].seq)]);
    assert.match(forged.problem, /chain key/);

    // Control: only the key outside the database makes a recomputed chain verify.
    const chainKey = parseEncryptionKey(fs.readFileSync(t.config.chainKeyFile, 'utf8'));
    await rewrite((prev, r) => eventHash(chainKey, prev, payload(r)));
    assert.equal((await t.operator.ok(VERIFY)).verifyEventChain.valid, true);
  });
});
