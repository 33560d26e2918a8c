import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DataCipher } from '../common/crypto';
import { UUID } from '../common/ids';
import { EventLog } from '../events/event-log.service';
import { LineagesService } from '../lineages/lineages.service';
import { NotificationError } from './domain/notification-error';
import { checkEventTypes, checkWebhookUrl, newWebhookSecret, secretAssociatedData, type WebhookSubscription } from './domain/webhook';
import { WebhookRepository, type DeliveryRecord } from './persistence/webhook.repository';

/** Webhook subscriptions: created with a secret shown once (stored sealed), listed, deleted; each change an event in the chain. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly webhooks: WebhookRepository,
    private readonly lineages: LineagesService,
    private readonly cipher: DataCipher,
    private readonly eventLog: EventLog,
  ) {}

  async create(input: { url: string; events: readonly string[]; lineage?: string | null }, actor: string): Promise<{ subscription: WebhookSubscription; secret: string }> {
    const url = checkWebhookUrl(input.url);
    const eventTypes = checkEventTypes(input.events);
    const lineage = input.lineage ?? null;
    if (lineage !== null && !(await this.lineages.find(lineage))) throw new NotificationError('NOT_FOUND', `no lineage ${lineage}`, 'lineage');
    const id = randomUUID();
    const secret = newWebhookSecret();
    const subscription = await this.dataSource.transaction(async (tx) => {
      const created = await this.webhooks.insertSubscription(tx, { id, url, eventTypes, lineage, createdBy: actor, secret: this.cipher.seal(Buffer.from(secret), secretAssociatedData(id)) });
      // The origin only: a path or query may carry a receiver's own token, and the chain is forever.
      await this.eventLog.append(tx, { actor, type: 'webhook.created', entityType: 'webhook', entityId: id, data: { origin: new URL(url).origin, events: eventTypes, lineage } });
      return created;
    });
    return { subscription, secret };
  }

  /** Deliveries not yet made are given up at their next attempt. */
  async delete(id: string, actor: string): Promise<WebhookSubscription> {
    const notFound = new NotificationError('NOT_FOUND', `no webhook ${id}`, 'id');
    if (!UUID.test(id)) throw notFound;
    return this.dataSource.transaction(async (tx) => {
      const deleted = await this.webhooks.markDeleted(tx, id);
      if (!deleted) throw notFound;
      await this.eventLog.append(tx, { actor, type: 'webhook.deleted', entityType: 'webhook', entityId: id });
      return deleted;
    });
  }

  list(first: number, after: { createdAt: Date; id: string } | null): Promise<WebhookSubscription[]> {
    return this.webhooks.page(first, after);
  }

  count(): Promise<number> {
    return this.webhooks.countLive();
  }

  /** A webhook's deliveries (a deleted webhook's too: they stay on record); NOT_FOUND for an unknown id. */
  async deliveriesOf(webhookId: string): Promise<{ list: (first: number, after: { createdAt: Date; id: string } | null) => Promise<DeliveryRecord[]>; count: () => Promise<number> }> {
    if (!UUID.test(webhookId) || !(await this.webhooks.findSubscription(webhookId))) throw new NotificationError('NOT_FOUND', `no webhook ${webhookId}`, 'webhookId');
    return { list: (first, after) => this.webhooks.pageDeliveries(webhookId, first, after), count: () => this.webhooks.countDeliveries(webhookId) };
  }

  /** The plain secret, for signing an attempt. */
  secretOf(subscriptionId: string, sealed: Parameters<DataCipher['open']>[0]): string {
    return this.cipher.open(sealed, secretAssociatedData(subscriptionId)).toString('utf8');
  }
}
