// API tokens over the real HTTP API: operators list and revoke them, tokens may expire, and every
// change is an event in the chain.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, TestApp } from '../support/app';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { recordingQueueModule, RecordingQueue } from '../support/recording-queue';

const CREATE = `mutation($role: Role!, $owner: String!, $days: Int) { createApiToken(role: $role, owner: $owner, expiresInDays: $days) { id token role owner createdAt expiresAt revokedAt } }`;
const LIST = `query($first: Int, $after: String) { apiTokens(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id token owner role createdAt lastUsedAt expiresAt revokedAt } } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiToken(id: $id) { id owner revokedAt } }`;
const WHO = `query { deletionRequests(first: 1) { totalCount } }`;

describe('API tokens (embedded Postgres, real app over HTTP)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ orchestration: recordingQueueModule(new RecordingQueue()) });
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => t?.stop());

  it('operators list tokens page by page, without the tokens themselves', async () => {
    for (const owner of ['carol', 'dave', 'erin']) await t.operator.ok(CREATE, { role: 'REQUESTER', owner });
    const first = (await t.operator.ok(LIST, { first: 2 })).apiTokens;
    assert.equal(first.totalCount, 4);
    const rest = (await t.operator.ok(LIST, { first: 2, after: first.pageInfo.endCursor })).apiTokens;
    const nodes = [...first.edges, ...rest.edges].map((e: { node: { owner: string; token: string | null; lastUsedAt: string | null } }) => e.node);
    assert.deepEqual(nodes.map((n) => n.owner), ['bootstrap-operator', 'carol', 'dave', 'erin']);
    assert.ok(nodes.every((n) => n.token === null), 'a listed token never shows the secret');
    assert.equal(rest.pageInfo.hasNextPage, false);
    assert.ok(nodes[0].lastUsedAt, 'the operator token was used');
    assert.equal((await t.operator.fails(LIST, { after: 'bogus' })).field, 'after');
  });

  it('a revoked token is refused on its next call; the revocation is in the chain', async () => {
    const created = (await t.operator.ok(CREATE, { role: 'AUDITOR', owner: 'frank' })).createApiToken;
    const frank = t.operator.withToken(created.token);
    assert.equal((await frank.ok(WHO)).deletionRequests.totalCount, 0);
    const revoked = (await t.operator.ok(REVOKE, { id: created.id })).revokeApiToken;
    assert.ok(revoked.revokedAt);
    assert.equal((await frank.fails(WHO)).code, 'UNAUTHENTICATED');
    const again = (await t.operator.ok(REVOKE, { id: created.id })).revokeApiToken;
    assert.equal(again.revokedAt, revoked.revokedAt, 'revoking twice changes nothing');
    const events = await t.dataSource.query(`SELECT type, actor FROM event_log WHERE entity_type = 'token' AND entity_id = $1 ORDER BY seq`, [created.id]);
    assert.deepEqual(events.map((e: { type: string }) => e.type), ['token.created', 'token.revoked']);
    assert.equal(events[1].actor, 'OPERATOR:bootstrap-operator');
    assert.equal((await t.operator.fails(REVOKE, { id: 'not-a-token' })).code, 'NOT_FOUND');
    assert.equal((await t.operator.fails(REVOKE, { id: '00000000-0000-4000-8000-000000000000' })).code, 'NOT_FOUND');
    assert.equal((await frank.fails(REVOKE, { id: created.id })).code, 'UNAUTHENTICATED');
  });

  it('only operators list or revoke tokens', async () => {
    const auditor = t.operator.withToken((await t.operator.ok(CREATE, { role: 'AUDITOR', owner: 'gina' })).createApiToken.token);
    assert.equal((await auditor.fails(LIST)).code, 'FORBIDDEN');
    assert.equal((await auditor.fails(REVOKE, { id: '00000000-0000-4000-8000-000000000000' })).code, 'FORBIDDEN');
  });

  it('a token with an expiry works until it expires, then is refused', async () => {
    const created = (await t.operator.ok(CREATE, { role: 'REQUESTER', owner: 'hank', days: 7 })).createApiToken;
    const days = (Date.parse(created.expiresAt) - Date.parse(created.createdAt)) / 86400e3;
    assert.ok(Math.abs(days - 7) < 0.01, `expires in 7 days, got ${days}`);
    const hank = t.operator.withToken(created.token);
    await hank.ok(WHO);
    // Time passes: the expiry is in the past now.
    await t.dataSource.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [created.id]);
    assert.equal((await hank.fails(WHO)).code, 'UNAUTHENTICATED');
    const [event] = await t.dataSource.query(`SELECT data FROM event_log WHERE type = 'token.created' AND entity_id = $1`, [created.id]);
    assert.equal(event.data.expiresAt, created.expiresAt);
    for (const days of [0, -1, 100000]) {
      assert.equal((await t.operator.fails(CREATE, { role: 'REQUESTER', owner: 'ivy', days })).field, 'expiresInDays');
    }
  });
});
