import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { OutboxPump } from '../common/outbox-pump';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { CONTROL_TASK_QUEUE } from '../../workflows/task-queues';
import type { WebhookDeliveryInput } from './activity-types';
import { deliveryWorkflowId } from './domain/webhook';
import { WebhookRepository } from './persistence/webhook.repository';

/** How often the outbox is read for deliveries whose workflow has not started (a worker's event, a crash, a Temporal outage). */
export const DISPATCH_POLL_MS = 1000;
/** Deliveries started per pass; a fuller outbox is drained by the passes that follow at once. */
const PASS_SIZE = 100;

/**
 * The webhook outbox's reader (in the API): starts one delivery workflow per recorded delivery.
 * The workflow id is derived from the delivery's and never reused, so a delivery started twice
 * (two API replicas, a crash before the mark) runs once.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly pump = new OutboxPump('WebhookDispatcher', () => this.pass(), DISPATCH_POLL_MS, 'webhook deliveries wait to be started');

  constructor(
    private readonly webhooks: WebhookRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly client: Client,
  ) {}

  onApplicationBootstrap(): void {
    this.pump.kick();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.pump.stop();
  }

  private async pass(): Promise<'more' | 'done'> {
    const ids = await this.webhooks.listUndispatched(PASS_SIZE);
    const { retryInitialMs, retryMaxMs, maxAttempts, timeoutMs } = this.config.webhooks;
    const results = await Promise.allSettled(
      ids.map((deliveryId) => {
        const input: WebhookDeliveryInput = { deliveryId, retry: { initialMs: retryInitialMs, maxMs: retryMaxMs, maxAttempts, timeoutMs } };
        return this.client.workflow
          .start('webhookDeliveryWorkflow', { workflowId: deliveryWorkflowId(deliveryId), taskQueue: CONTROL_TASK_QUEUE, args: [input], workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE })
          .catch((err) => {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          });
      }),
    );
    await this.webhooks.markDispatched(ids.filter((_, i) => results[i].status === 'fulfilled'));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return ids.length < PASS_SIZE ? 'done' : 'more';
  }
}
