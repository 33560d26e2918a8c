// The contract between the notification workflows (workflows/notifications.workflow.ts) and their
// activities on queue `control`. Types only: the workflow imports this file with `import type`.

/** The retry policy of one delivery, fixed when the delivery's workflow starts (from the config). */
export interface WebhookRetry {
  initialMs: number;
  maxMs: number;
  maxAttempts: number;
  /** One attempt's own timeout; the activity gets a little more. */
  timeoutMs: number;
}

export interface WebhookDeliveryInput {
  deliveryId: string;
  retry: WebhookRetry;
}

export interface NotificationActivities {
  /** One attempt; throws (retryable) when the receiver did not take it. */
  deliverWebhook(deliveryId: string): Promise<'DELIVERED' | 'ALREADY_FINISHED' | 'GIVEN_UP'>;
  giveUpWebhook(input: { deliveryId: string; reason: string }): Promise<void>;
  sweepDeadlines(): Promise<{ dueSoon: number; overdue: number }>;
}
