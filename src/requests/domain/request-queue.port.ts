// src/requests/domain/request-queue.port.ts
export const REQUEST_QUEUE = Symbol('REQUEST_QUEUE');
export type ReviewDecision = 'APPROVE' | 'REJECT';
export interface RequestQueue {
  /** Durably queues the request on its lineage workflow (update-with-start); resolves once accepted. Idempotent per requestId. */
  enqueue(lineage: string, requestId: string): Promise<void>;
  /** `enqueue` for several requests of one lineage at once, in order (the outbox's way). */
  enqueueMany(lineage: string, requestIds: readonly string[]): Promise<void>;
  /** Removes a queued request before unlearning starts; false when it already started. */
  cancel(lineage: string, requestId: string): Promise<boolean>;
  review(lineage: string, requestId: string, decision: ReviewDecision, reason: string, actor: string): Promise<void>;
  rollback(lineage: string, toVersion: number, reason: string, actor: string): Promise<void>;
}
