// API tokens over the real HTTP API: operators list and revoke them, tokens may expire, and every
// change is an event in the chain. Valid tokens are cached per API process: a change made by
// another process, or in the database, is honoured at once all the same.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../src/app.module';
import { PRINCIPAL_CACHE_MS } from '../../src/auth/domain/principal-cache';
import { loadConfig } from '../../src/config/config';
import { startTestApp, TestApp } from '../support/app';
import { GqlClient } from '../support/gql';
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

  /** How long until `client`'s calls are refused; fails past `withinMs`. */
  async function refusedWithin(client: GqlClient, withinMs: number): Promise<number> {
    const started = performance.now();
    for (;;) {
      const result = await client.request(WHO);
      if (result.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED') return performance.now() - started;
      assert.ok(performance.now() - started < withinMs, `still accepted after ${withinMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('a token revoked through another API process is refused by this one on its next call', async () => {
    const config = loadConfig({ PORT: '0', DATABASE_URL: t.postgres.url, LETHE_DATA_DIR: path.join(t.postgres.dir, 'second-api'), LETHE_MODEL_ROOTS: t.postgres.dir, LETHE_DATASET_ROOTS: t.postgres.dir }, t.postgres.dir);
    let second: INestApplication | null = null;
    try {
      second = await createApp(config, { orchestration: recordingQueueModule(new RecordingQueue()), logger: ['error'] });
      await second.listen(0, '127.0.0.1');
      const viaSecond = new GqlClient((await second.getUrl()).replace('[::1]', '127.0.0.1'), t.operator.token);
      const created = (await t.operator.ok(CREATE, { role: 'REQUESTER', owner: 'jill' })).createApiToken;
      const jill = t.operator.withToken(created.token);
      for (let i = 0; i < 3; i++) await jill.ok(WHO); // known to this process now
      await viaSecond.ok(REVOKE, { id: created.id });
      // Pushed from the database to every process: milliseconds, far below the cache's own bound.
      const ms = await refusedWithin(jill, PRINCIPAL_CACHE_MS / 2);
      assert.ok(ms < PRINCIPAL_CACHE_MS / 2, `refused after ${ms} ms`);
    } finally {
      await second?.close();
    }
  });

  it('a token changed in the database alone is refused at once; with the push lost, within the cache bound, and the push comes back', async () => {
    const create = async (owner: string) => {
      const created = (await t.operator.ok(CREATE, { role: 'REQUESTER', owner })).createApiToken;
      const client = t.operator.withToken(created.token);
      await client.ok(WHO);
      return { id: created.id as string, client };
    };
    const revokeInDatabase = (id: string) => t.dataSource.query(`UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, [id]);
    const listeners = async () => (await t.dataSource.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'lethe-token-listener'`)) as Array<{ pid: number }>;

    const kim = await create('kim');
    await revokeInDatabase(kim.id);
    assert.ok((await refusedWithin(kim.client, PRINCIPAL_CACHE_MS / 2)) < PRINCIPAL_CACHE_MS / 2);

    // The listener's connection dies: nothing is pushed until it is back, and the cache believes a token for at most PRINCIPAL_CACHE_MS.
    const lee = await create('lee');
    // The other test's second API process has closed; its listener's backend may take a moment to go.
    let before = await listeners();
    for (const until = Date.now() + 2000; before.length !== 1 && Date.now() < until; before = await listeners()) await new Promise((r) => setTimeout(r, 20));
    assert.equal(before.length, 1, 'one listener for this API process');
    await t.dataSource.query(`SELECT pg_terminate_backend($1)`, [before[0].pid]);
    await revokeInDatabase(lee.id);
    await refusedWithin(lee.client, PRINCIPAL_CACHE_MS + 500);

    const deadline = Date.now() + 5000;
    while (!(await listeners()).some((l) => l.pid !== before[0].pid)) {
      assert.ok(Date.now() < deadline, 'the listener connects again');
      await new Promise((r) => setTimeout(r, 50));
    }
    const max = await create('max');
    await revokeInDatabase(max.id);
    assert.ok((await refusedWithin(max.client, PRINCIPAL_CACHE_MS / 2)) < PRINCIPAL_CACHE_MS / 2, 'pushed again once the listener is back');
  });
});
