// Thin adapters from the notification activities (activity-types.ts) to the services the tests call directly.
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { AppError } from '../common/errors';
import type { RequestDeadlines } from '../requests/request-deadlines.service';
import type { NotificationActivities } from './activity-types';
import type { WebhookDeliveries } from './webhook-delivery.service';

export function createNotificationActivities(services: { deliveries: WebhookDeliveries; deadlines: RequestDeadlines }): NotificationActivities {
  return {
    async deliverWebhook(deliveryId) {
      try {
        return await services.deliveries.attempt(deliveryId, Context.current().info.attempt);
      } catch (err) {
        // A delivery that does not exist never will: not retried. Everything else (the receiver, the database) is.
        if (err instanceof AppError) throw ApplicationFailure.nonRetryable(err.message, err.code);
        throw err;
      }
    },
    giveUpWebhook: ({ deliveryId, reason }) => services.deliveries.giveUp(deliveryId, reason),
    async sweepDeadlines() {
      const { dueSoon, overdue } = await services.deadlines.sweep();
      return { dueSoon: dueSoon.length, overdue: overdue.length };
    },
  };
}
