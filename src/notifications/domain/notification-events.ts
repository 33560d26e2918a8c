// What a subscriber is told, and how it can trust it: the mapping from the event chain to
// CloudEvents 1.0, and the signature scheme (docs/webhooks.md). Plain functions, no framework.
import { createHmac } from 'node:crypto';
import type { LoggedEvent } from '../../events/domain/event';
import { DEADLINE_EVENTS } from '../../requests/domain/deadline';

export const WEBHOOK_EVENT_TYPES = [
  'lethe.request.completed',
  'lethe.request.needs_review',
  'lethe.request.failed',
  'lethe.request.reopened',
  'lethe.request.due_soon',
  'lethe.request.overdue',
  'lethe.version.promoted',
  'lethe.version.rolled_back',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** A request status whose arrival subscribers are told of. */
const STATUS_EVENTS: Record<string, WebhookEventType> = {
  COMPLETED: 'lethe.request.completed',
  NEEDS_REVIEW: 'lethe.request.needs_review',
  FAILED: 'lethe.request.failed',
  REOPENED: 'lethe.request.reopened',
};

/** What one logged event tells subscribers: ids, statuses and hashes only, never personal data. */
export interface Notification {
  type: WebhookEventType;
  /** The lineage it concerns: a subscription for one lineage hears only its own. */
  lineage: string;
  subject: string;
  data: Record<string, unknown>;
}

export function notificationOf(event: LoggedEvent): Notification | null {
  const data = event.data;
  if (event.entityType === 'request') {
    const lineage = String(data.lineage ?? '');
    const requestId = event.entityId;
    const subject = `requests/${requestId}`;
    if (event.type === 'request.status_changed') {
      const type = STATUS_EVENTS[String(data.to)];
      return type ? { type, lineage, subject, data: { requestId, lineage, status: data.to } } : null;
    }
    if (event.type === DEADLINE_EVENTS.DUE_SOON || event.type === DEADLINE_EVENTS.OVERDUE) {
      const type = event.type === DEADLINE_EVENTS.DUE_SOON ? 'lethe.request.due_soon' : 'lethe.request.overdue';
      return { type, lineage, subject, data: { requestId, lineage, status: data.status, dueAt: data.dueAt } };
    }
    return null;
  }
  if (event.type === 'version.promoted') {
    const [lineage, number] = splitVersionId(event.entityId);
    return versionNotification('lethe.version.promoted', lineage, number, data.adapterSha256);
  }
  if (event.type === 'lineage.rolled_back') {
    return versionNotification('lethe.version.rolled_back', event.entityId, Number(data.to), data.adapterSha256);
  }
  return null;
}

function versionNotification(type: WebhookEventType, lineage: string, version: number, adapterSha256: unknown): Notification {
  return {
    type,
    lineage,
    subject: `lineages/${lineage}/versions/${version}`,
    data: { lineage, version, adapterSha256: adapterSha256 ?? null, manifestUrl: `/models/${lineage}/champion` },
  };
}

/** `<lineage>#<number>`, as the version events name their entity. */
function splitVersionId(entityId: string): [string, number] {
  const at = entityId.lastIndexOf('#');
  return [entityId.slice(0, at), Number(entityId.slice(at + 1))];
}

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: WebhookEventType;
  time: string;
  subject: string;
  datacontenttype: 'application/json';
  data: Record<string, unknown>;
}

/**
 * The CloudEvent of a logged event. Its id is the event's sequence number in the chain, so every
 * subscriber and every retry sees the same id for the same fact.
 */
export function cloudEventOf(event: LoggedEvent, notification: Notification): CloudEvent {
  return {
    specversion: '1.0',
    id: String(event.seq),
    source: `/lethe/lineages/${notification.lineage}`,
    type: notification.type,
    time: event.occurredAt.toISOString(),
    subject: notification.subject,
    datacontenttype: 'application/json',
    data: notification.data,
  };
}

export const SIGNATURE_HEADER = 'lethe-signature';
function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under the subscription's secret>`. The
 * receiver's check is in docs/webhooks.md (Node and Python), tested against this.
 */
export function signatureHeader(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body)}`;
}
