import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { NotificationError } from './domain/notification-error';
import { SIGNATURE_HEADER, signatureHeader } from './domain/notification-events';
import { WebhookRepository } from './persistence/webhook.repository';
import { WebhooksService } from './webhooks.service';

/** The outcome of one attempt that did not deliver: the activity throws it so Temporal retries with backoff. */
export class DeliveryAttemptFailed extends Error {
  override name = 'DeliveryAttemptFailed';
}

export type AttemptOutcome = 'DELIVERED' | 'ALREADY_FINISHED' | 'GIVEN_UP';

/**
 * One attempt of one delivery: the stored body (the same bytes and event id on every attempt),
 * signed now, POSTed with a timeout; the attempt and its outcome recorded. A 2xx answer delivers;
 * anything else is a failed attempt, retried by the delivery workflow.
 */
@Injectable()
export class WebhookDeliveries {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly subscriptions: WebhooksService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async attempt(deliveryId: string, attempt: number): Promise<AttemptOutcome> {
    const delivery = await this.webhooks.findToAttempt(deliveryId);
    if (!delivery) throw new NotificationError('NOT_FOUND', `no webhook delivery ${deliveryId}`);
    if (delivery.status !== 'PENDING') return 'ALREADY_FINISHED';
    if (delivery.subscriptionDeleted) {
      await this.webhooks.giveUp(deliveryId, 'the webhook was deleted');
      return 'GIVEN_UP';
    }
    const secret = this.subscriptions.secretOf(delivery.subscriptionId, delivery.sealedSecret);
    const started = Date.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/cloudevents+json; charset=utf-8',
          [SIGNATURE_HEADER]: signatureHeader(secret, delivery.body, Math.floor(Date.now() / 1000)),
          'user-agent': 'Lethe-Webhooks/1',
        },
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.webhooks.timeoutMs),
      });
      statusCode = response.status;
      // The body is not read beyond what it takes to free the connection.
      await response.body?.cancel().catch(() => undefined);
      if (statusCode < 200 || statusCode > 299) error = `the receiver answered ${statusCode}`;
    } catch (err) {
      error = (err as Error).name === 'TimeoutError' ? `no answer within ${this.config.webhooks.timeoutMs} ms` : `${(err as Error).message}${(err as { cause?: Error }).cause ? `: ${(err as { cause: Error }).cause.message}` : ''}`;
    }
    const succeeded = error === null;
    await this.webhooks.recordAttempt({ deliveryId, attempt, statusCode, error, durationMs: Date.now() - started, succeeded });
    if (!succeeded) throw new DeliveryAttemptFailed(error!);
    return 'DELIVERED';
  }

  /** After the last attempt: the delivery is FAILED, with why. */
  giveUp(deliveryId: string, reason: string): Promise<void> {
    return this.webhooks.giveUp(deliveryId, reason);
  }
}
