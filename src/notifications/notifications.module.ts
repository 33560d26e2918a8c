import { DynamicModule, Module, type Provider } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { LineagesModule } from '../lineages/lineages.module';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module';
import { WebhooksResolver } from './api/webhooks.resolver';
import { DeadlineSchedule } from './deadline-schedule.service';
import { WebhookRepository } from './persistence/webhook.repository';
import { WebhookDeliveries } from './webhook-delivery.service';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import { WebhookOutbox } from './webhook-outbox.service';
import { WebhooksService } from './webhooks.service';

/** Both processes write events, so both record the deliveries those events cause (and either can attempt them). */
const RECORDING: Provider[] = [WebhookRepository, WebhooksService, WebhookOutbox, WebhookDeliveries];

/**
 * Signed notifications: webhook subscriptions (GraphQL, operators), the delivery outbox written
 * with the events that cause it, its dispatcher and the delivery activities, and the daily
 * deadline sweep's schedule.
 */
@Module({})
export class NotificationsModule {
  /** The API: subscriptions, the outbox's dispatcher and the sweep's schedule. */
  static forApi(): DynamicModule {
    return {
      module: NotificationsModule,
      imports: [LineagesModule],
      providers: [
        ...RECORDING,
        WebhooksResolver,
        // Only where Temporal is wired (a test of the API alone replaces the orchestration).
        {
          provide: WebhookDispatcher,
          inject: [{ token: TEMPORAL_CLIENT, optional: true }, WebhookRepository, APP_CONFIG],
          useFactory: (client: Client | undefined, webhooks: WebhookRepository, config: AppConfig) => (client ? new WebhookDispatcher(webhooks, config, client) : null),
        },
        {
          provide: DeadlineSchedule,
          inject: [{ token: TEMPORAL_CLIENT, optional: true }],
          useFactory: (client: Client | undefined) => (client ? new DeadlineSchedule(client) : null),
        },
      ],
    };
  }

  /** The TypeScript worker: what the delivery activities need. */
  static forWorker(): DynamicModule {
    return { module: NotificationsModule, imports: [LineagesModule], providers: RECORDING, exports: [WebhookDeliveries] };
  }
}
