// What /metrics reports, as plain values read from the database at scrape time. Only lineage
// names, statuses and counts: never a subject, a requester or a request id.
import { RequestStatus, UNFINISHED } from '../../requests/domain/request-status';

/** Requests waiting for their lineage's queue to pick them up (the outbox's RECEIVED and the queued). */
export const QUEUED_STATUSES: readonly RequestStatus[] = ['RECEIVED', 'QUEUED'];

/** Not in a final state: the deadline still binds (COMPLETED, REJECTED, FAILED, CANCELED are final). */
export const OPEN_STATUSES: readonly RequestStatus[] = UNFINISHED;

const HOUR = 3600;
const DAY = 24 * HOUR;
/** Receipt to completion: around the statutory month. */
export const COMPLETION_BUCKETS_SECONDS: readonly number[] = [HOUR, 6 * HOUR, DAY, 3 * DAY, 7 * DAY, 14 * DAY, 21 * DAY, 30 * DAY, 45 * DAY, 60 * DAY, 90 * DAY];
/** Time in training or in audit: minutes to a day. */
export const PHASE_BUCKETS_SECONDS: readonly number[] = [60, 300, 900, 1800, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 16 * HOUR, DAY, 2 * DAY];

export interface StatusCount {
  lineage: string;
  status: RequestStatus;
  count: number;
}

export interface QueueState {
  lineage: string;
  depth: number;
  /** Age of the oldest waiting request; 0 when none waits. */
  oldestAgeSeconds: number;
}

export interface DeadlineState {
  lineage: string;
  /** Open and due within the configured due-soon days (not yet overdue). */
  dueSoon: number;
  /** Open and past its due date. */
  overdue: number;
}

/** A histogram aggregated in the database: cumulative counts per upper bound, as Prometheus wants them. */
export interface DurationHistogram {
  lineage: string;
  /** Same order as the bounds asked for; each counts the durations <= that bound. */
  cumulativeCounts: number[];
  count: number;
  sumSeconds: number;
}

/** Time a request spent in a phase of a step: UNLEARNING (training) or AUDITING (audit). */
export type StepPhase = 'UNLEARNING' | 'AUDITING';

/** Webhook deliveries of one event type: failed attempts so far, and deliveries by outcome. */
export interface WebhookDeliveryState {
  eventType: string;
  failedAttempts: number;
  pending: number;
  delivered: number;
  /** Given up after the last attempt. */
  failed: number;
}
