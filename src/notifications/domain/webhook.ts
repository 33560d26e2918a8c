import { randomBytes } from 'node:crypto';
import { NotificationError } from './notification-error';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './notification-events';

export interface WebhookSubscription {
  id: string;
  url: string;
  eventTypes: WebhookEventType[];
  /** null: every lineage. */
  lineage: string | null;
  createdBy: string;
  createdAt: Date;
  deletedAt: Date | null;
}

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

export const MAX_WEBHOOK_URL_LENGTH = 2000;
const SECRET_PREFIX = 'whsec_';

/** http or https only, no credentials in it (they would be stored and logged as part of the URL). */
export function checkWebhookUrl(raw: string, field = 'url'): string {
  const text = raw.trim();
  if (text.length === 0 || text.length > MAX_WEBHOOK_URL_LENGTH) throw new NotificationError('BAD_USER_INPUT', `must be 1 to ${MAX_WEBHOOK_URL_LENGTH} characters`, field);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new NotificationError('BAD_USER_INPUT', 'is not an absolute URL', field);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NotificationError('BAD_USER_INPUT', `must use http or https, got ${url.protocol.replace(/:$/, '')}`, field);
  if (url.username || url.password) throw new NotificationError('BAD_USER_INPUT', 'must not carry a user name or password (the signature authenticates Lethe)', field);
  return url.toString();
}

export function checkEventTypes(types: readonly string[], field = 'events'): WebhookEventType[] {
  if (types.length === 0) throw new NotificationError('BAD_USER_INPUT', 'must name at least one event type', field);
  const unique = [...new Set(types)];
  const unknown = unique.find((t) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(t));
  if (unknown) throw new NotificationError('BAD_USER_INPUT', `unknown event type ${unknown}`, field);
  return unique as WebhookEventType[];
}

/** A fresh signing secret: shown once, stored only encrypted. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** The associated data the secret is sealed under: a sealed secret moved to another row does not open. */
export function secretAssociatedData(subscriptionId: string): string {
  return `webhook-secret:${subscriptionId}`;
}

/** The Temporal workflow of one delivery: one id per delivery, so a delivery is started once. */
export function deliveryWorkflowId(deliveryId: string): string {
  return `webhook-delivery:${deliveryId}`;
}
