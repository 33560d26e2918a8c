// The notification rules without a database: which logged events become which CloudEvents, the
// signature scheme, and the checks on a subscription's input.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import type { LoggedEvent } from '../../src/events/domain/event';
import { enumOf, eventTypeOf, WebhookEvent } from '../../src/notifications/api/webhook.model';
import { cloudEventOf, notificationOf, signatureHeader, WEBHOOK_EVENT_TYPES } from '../../src/notifications/domain/notification-events';
import { checkEventTypes, checkWebhookUrl } from '../../src/notifications/domain/webhook';
import { deadlineWindows } from '../../src/requests/domain/deadline';

const REQUEST_ID = '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
const SHA = 'ab'.repeat(32);

function logged(partial: Partial<LoggedEvent>): LoggedEvent {
  return { seq: 42, occurredAt: new Date('2026-12-01T10:00:00.000Z'), actor: 'system', type: 'x', entityType: 'request', entityId: REQUEST_ID, reason: null, data: {}, prevHash: '0', hash: '1', ...partial };
}

describe('notifications: events to CloudEvents', () => {
  it('request statuses that subscribers hear of, with ids and status only', () => {
    for (const [to, type] of [['COMPLETED', 'lethe.request.completed'], ['NEEDS_REVIEW', 'lethe.request.needs_review'], ['FAILED', 'lethe.request.failed'], ['REOPENED', 'lethe.request.reopened']]) {
      const n = notificationOf(logged({ type: 'request.status_changed', data: { lineage: 'main', from: 'AUDITING', to, modelVersionId: 'v', version: 3 } }));
      assert.deepEqual(n, { type, lineage: 'main', subject: `requests/${REQUEST_ID}`, data: { requestId: REQUEST_ID, lineage: 'main', status: to } });
    }
    for (const to of ['QUEUED', 'UNLEARNING', 'AUDITING', 'CANCELED', 'REJECTED']) assert.equal(notificationOf(logged({ type: 'request.status_changed', data: { lineage: 'main', to } })), null, to);
    assert.equal(notificationOf(logged({ type: 'request.received', data: { lineage: 'main' } })), null);
    assert.equal(notificationOf(logged({ type: 'forget_set.purged' })), null);
  });

  it('deadline notices carry the due date and status', () => {
    const n = notificationOf(logged({ type: 'request.due_soon', data: { lineage: 'main', status: 'QUEUED', dueAt: '2026-12-05T00:00:00.000Z' } }));
    assert.deepEqual(n?.data, { requestId: REQUEST_ID, lineage: 'main', status: 'QUEUED', dueAt: '2026-12-05T00:00:00.000Z' });
    assert.equal(notificationOf(logged({ type: 'request.overdue', data: { lineage: 'main', status: 'QUEUED', dueAt: 'x' } }))?.type, 'lethe.request.overdue');
  });

  it('version events: lineage, version, adapter sha256 and the manifest URL', () => {
    const promoted = notificationOf(logged({ type: 'version.promoted', entityType: 'version', entityId: 'main.v2#7', data: { previousChampion: 6, adapterSha256: SHA } }));
    assert.deepEqual(promoted, { type: 'lethe.version.promoted', lineage: 'main.v2', subject: 'lineages/main.v2/versions/7', data: { lineage: 'main.v2', version: 7, adapterSha256: SHA, manifestUrl: '/models/main.v2/champion' } });
    const rolledBack = notificationOf(logged({ type: 'lineage.rolled_back', entityType: 'lineage', entityId: 'main', data: { from: 7, to: 0, adapterSha256: null, rolledBack: [7], reopened: [] } }));
    assert.deepEqual(rolledBack?.data, { lineage: 'main', version: 0, adapterSha256: null, manifestUrl: '/models/main/champion' });
    assert.equal(notificationOf(logged({ type: 'version.rejected', entityType: 'version', entityId: 'main#8' })), null);
  });

  it('the CloudEvent: specversion 1.0, the chain sequence as id, the event time', () => {
    const event = logged({ type: 'request.status_changed', data: { lineage: 'main', to: 'COMPLETED' } });
    const ce = cloudEventOf(event, notificationOf(event)!);
    assert.deepEqual(ce, {
      specversion: '1.0', id: '42', source: '/lethe/lineages/main', type: 'lethe.request.completed', time: '2026-12-01T10:00:00.000Z',
      subject: `requests/${REQUEST_ID}`, datacontenttype: 'application/json', data: { requestId: REQUEST_ID, lineage: 'main', status: 'COMPLETED' },
    });
  });

  it('every CloudEvents type has its GraphQL enum value and back', () => {
    assert.deepEqual(WEBHOOK_EVENT_TYPES.map(enumOf).sort(), Object.values(WebhookEvent).sort());
    for (const type of WEBHOOK_EVENT_TYPES) assert.equal(eventTypeOf(enumOf(type)), type);
  });
});

describe('notifications: the signature', () => {
  const secret = 'whsec_test';
  const body = '{"id":"42","type":"lethe.request.completed"}';
  const now = 1_800_000_000;

  it('t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>"> (receivers check it with the snippets in docs/webhooks.md)', () => {
    const expected = crypto.createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
    assert.equal(signatureHeader(secret, body, now), `t=${now},v1=${expected}`);
    assert.notEqual(signatureHeader(secret, body, now + 1), signatureHeader(secret, body, now), 'the timestamp is signed');
  });
});

describe('notifications: subscription input', () => {
  it('URLs: http or https, absolute, without credentials, named field', () => {
    assert.equal(checkWebhookUrl(' https://hooks.example.org/lethe?x=1 '), 'https://hooks.example.org/lethe?x=1');
    for (const bad of ['', 'ftp://a/b', 'file:///etc/passwd', '/relative', 'javascript:alert(1)', 'https://u:p@h/x', `https://h/${'a'.repeat(2000)}`]) {
      assert.throws(() => checkWebhookUrl(bad), (e: any) => e.code === 'BAD_USER_INPUT' && e.field === 'url', bad);
    }
  });

  it('events: at least one, known, duplicates dropped', () => {
    assert.deepEqual(checkEventTypes(['lethe.version.promoted', 'lethe.version.promoted']), ['lethe.version.promoted']);
    assert.throws(() => checkEventTypes([]), (e: any) => e.field === 'events');
    assert.throws(() => checkEventTypes(['lethe.request.received']), /unknown event type/);
  });

  it('deadline windows: overdue before now, due soon from now to now + N days', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    assert.deepEqual(deadlineWindows(now, 7), { OVERDUE: { from: null, to: now }, DUE_SOON: { from: now, to: new Date('2026-12-08T00:00:00Z') } });
  });
});
