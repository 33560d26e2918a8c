import { AppError } from '../../common/errors';

/** Refusals of the notifications feature (webhook subscriptions and deliveries). */
export class NotificationError extends AppError {}
