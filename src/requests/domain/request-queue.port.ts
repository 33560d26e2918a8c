// src/requests/domain/request-queue.port.ts
export const REQUEST_QUEUE = Symbol('REQUEST_QUEUE');
export type ReviewDecision = 'APPROVE' | 'REJECT';

/** Where a request stands in the step its lineage's workflow is running now. */
export interface StepProgress {
  /** The step's phase (PREPARING, UNLEARNING, AUDITING, NEEDS_REVIEW, FINISHING). */
  phase: string;
  attempt: number;
  /** 0 during the attempt's own operation, k during its k-th re-forget or goal pass. */
  reforgetPass: number;
  /** The activity running for the step (unlearn, export_onnx, audit), null between activities. */
  activity: string | null;
  /** The activity's last heartbeat: training step (or audit question) `step` of `total`; null before the first. */
  step: number | null;
  total: number | null;
}
export interface RequestQueue {
  /** Durably queues the request on its lineage workflow (update-with-start); resolves once accepted. Idempotent per requestId. */
  enqueue(lineage: string, requestId: string): Promise<void>;
  /** `enqueue` for several requests of one lineage at once, in order (the outbox's way). */
  enqueueMany(lineage: string, requestIds: readonly string[]): Promise<void>;
  /** Removes a queued request before unlearning starts; false when it already started. */
  cancel(lineage: string, requestId: string): Promise<boolean>;
  review(lineage: string, requestId: string, decision: ReviewDecision, reason: string, actor: string): Promise<void>;
  rollback(lineage: string, toVersion: number, reason: string, actor: string): Promise<void>;
  /** The request's place in the running step, from the workflow and its pending activity's heartbeat; null when no running step carries it. */
  progress(lineage: string, requestId: string): Promise<StepProgress | null>;
}
