import { RequestError } from './request-error';

export const REQUEST_STATUSES = [
  'RECEIVED',
  'QUEUED',
  'UNLEARNING',
  'AUDITING',
  'COMPLETED',
  'NEEDS_REVIEW',
  'REJECTED',
  'FAILED',
  'CANCELED',
  'REOPENED',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/**
 * The lifecycle. RECEIVED -> UNLEARNING is allowed because the lineage workflow may begin a
 * request before the API has recorded QUEUED (the enqueue is accepted first, then recorded).
 * AUDITING -> UNLEARNING is a retry with escalated settings. REOPENED: a rollback undid the
 * unlearning, the request is queued again (the duty to forget survives a rollback).
 */
const TRANSITIONS: Record<RequestStatus, readonly RequestStatus[]> = {
  RECEIVED: ['QUEUED', 'UNLEARNING', 'CANCELED', 'FAILED'],
  QUEUED: ['UNLEARNING', 'CANCELED', 'FAILED'],
  UNLEARNING: ['AUDITING', 'FAILED'],
  AUDITING: ['COMPLETED', 'NEEDS_REVIEW', 'UNLEARNING', 'REJECTED', 'FAILED'],
  NEEDS_REVIEW: ['COMPLETED', 'REJECTED', 'UNLEARNING', 'FAILED'],
  COMPLETED: ['REOPENED'],
  REOPENED: ['QUEUED', 'UNLEARNING', 'CANCELED', 'FAILED'],
  REJECTED: [],
  FAILED: [],
  CANCELED: [],
};

/** Waiting for a step of their lineage: the step begins them (UNLEARNING). */
export const WAITING: readonly RequestStatus[] = ['RECEIVED', 'QUEUED', 'REOPENED'];

/** Statuses from which the requester may still withdraw: unlearning has not started. */
export const CANCELABLE: readonly RequestStatus[] = WAITING;

/** In a running step: being trained on or audited (a step waiting for review trains no more). */
export const IN_STEP: readonly RequestStatus[] = ['UNLEARNING', 'AUDITING'];

/** Trained on, their candidate audited or held for review: a decision on the candidate moves them on. */
export const AWAITING_DECISION: readonly RequestStatus[] = ['AUDITING', 'NEEDS_REVIEW'];

export function canTransition(from: RequestStatus, to: RequestStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Every status that may still end FAILED: not finished (COMPLETED waits only for a rollback). */
export const UNFINISHED: readonly RequestStatus[] = REQUEST_STATUSES.filter((status) => canTransition(status, 'FAILED'));

export function assertTransition(requestId: string, from: RequestStatus, to: RequestStatus): void {
  if (!canTransition(from, to)) {
    throw new RequestError('CONFLICT', `request ${requestId} cannot go from ${from} to ${to}`);
  }
}

export function isTerminal(status: RequestStatus): boolean {
  return TRANSITIONS[status].length === 0;
}
