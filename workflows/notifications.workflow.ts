// The notification workflows: one per webhook delivery (its id derived from the delivery's, so a
// delivery starts once), and the daily deadline sweep the schedule starts. Deterministic code only.
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities, WebhookDeliveryInput } from '../src/notifications/activity-types';
import { CONTROL_TASK_QUEUE } from './task-queues';

// Bookkeeping against our own database: retried without limit, like the lineage workflow's.
const bookkeeping = proxyActivities<NotificationActivities>({
  taskQueue: CONTROL_TASK_QUEUE,
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * Attempts with exponential backoff until the receiver takes the event or the attempts are spent;
 * every attempt sends the same body (the same event id). Then the delivery is FAILED.
 */
export async function webhookDeliveryWorkflow({ deliveryId, retry }: WebhookDeliveryInput): Promise<string> {
  const delivery = proxyActivities<NotificationActivities>({
    taskQueue: CONTROL_TASK_QUEUE,
    startToCloseTimeout: retry.timeoutMs + 30_000,
    retry: { initialInterval: retry.initialMs, backoffCoefficient: 2, maximumInterval: retry.maxMs, maximumAttempts: retry.maxAttempts },
  });
  try {
    return await delivery.deliverWebhook(deliveryId);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const reason = `not delivered after ${retry.maxAttempts} attempt(s): ${err.cause?.message ?? err.message}`;
    await bookkeeping.giveUpWebhook({ deliveryId, reason });
    return 'FAILED';
  }
}

/** Started daily by the schedule `lethe-deadline-sweep`. */
export async function deadlineSweepWorkflow(): Promise<{ dueSoon: number; overdue: number }> {
  return bookkeeping.sweepDeadlines();
}
