import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Db } from '../database/sql';
import type { LoggedEvent } from '../events/domain/event';
import { EventLog, type AppendObserver } from '../events/event-log.service';
import { cloudEventOf, notificationOf } from './domain/notification-events';
import { WebhookRepository } from './persistence/webhook.repository';

/**
 * Records the deliveries an event causes in the transaction that appends the event: a request
 * completed, a version promoted... and its webhook deliveries commit together or not at all.
 * Every process that writes events loads this (the API and the TypeScript worker).
 */
@Injectable()
export class WebhookOutbox implements AppendObserver, OnModuleInit {
  constructor(
    private readonly eventLog: EventLog,
    private readonly webhooks: WebhookRepository,
  ) {}

  onModuleInit(): void {
    this.eventLog.observe(this);
  }

  async appended(tx: Db, event: LoggedEvent): Promise<void> {
    const notification = notificationOf(event);
    if (!notification) return;
    const subscribers = await this.webhooks.subscribersOf(tx, notification.type, notification.lineage);
    if (subscribers.length === 0) return;
    const cloudEvent = cloudEventOf(event, notification);
    await this.webhooks.insertDeliveries(tx, subscribers, { id: cloudEvent.id, type: cloudEvent.type, body: JSON.stringify(cloudEvent) });
  }
}
