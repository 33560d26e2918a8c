// The lineage workflow's messages, defined once and shared by the workflow and the client
// (src/orchestration/temporal-request-queue.ts).
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { LineageSnapshot } from '../src/orchestration/activity-types';

export const LINEAGE_WORKFLOW_TYPE = 'lineageWorkflow';

export function lineageWorkflowId(lineage: string): string {
  return `lineage:${lineage}`;
}

export type ReviewDecision = 'APPROVE' | 'REJECT';

export interface EnqueueInput {
  requestId: string;
}
export interface EnqueueResult {
  /** false when the request was already known to this lineage (an idempotent retry). */
  accepted: boolean;
  /** Requests ahead of it (0 = next), or -1 when it is no longer waiting. */
  position: number;
}

export interface EnqueueManyInput {
  requestIds: string[];
}

export interface CancelInput {
  requestId: string;
}

export interface ReviewInput {
  requestId: string;
  decision: ReviewDecision;
  reason: string;
  actor: string;
}

export interface RollbackInput {
  toVersion: number;
  reason: string;
  actor: string;
}
export interface RollbackResult {
  championVersion: number | null;
  reopenedRequestIds: string[];
}

export interface QueuedRequest {
  requestId: string;
  /** Workflow time (ms) it was queued; drives the batching window. */
  queuedAt: number;
}

export type StepPhase = 'PREPARING' | 'UNLEARNING' | 'AUDITING' | 'NEEDS_REVIEW' | 'FINISHING' | 'ROLLING_BACK';

export interface ActiveStep {
  requestIds: string[];
  phase: StepPhase;
  attempt: number;
  /** 0 while the attempt's own operation runs, k during its k-th pass (the goal passes count on from the re-forget passes). */
  reforgetPass: number;
  candidateVersion: number | null;
}

/** Plain-JSON state; also the continue-as-new argument. */
export interface LineageWorkflowState {
  lineage: string;
  queue: QueuedRequest[];
  /** Dedupe keys: the queued and active requests, and the most recent finished ones (FINISHED_REQUESTS_REMEMBERED). */
  known: string[];
  active: ActiveStep | null;
  /** Null until the first `describeLineage` of this workflow. */
  snapshot: LineageSnapshot | null;
  /** `export_onnx` results by (base model, LoRA config), so each export runs once per workflow history. */
  exports: Record<string, { dir: string; manifestPath: string }>;
  /** Steps finished over the lineage's life (all runs), for observability. */
  stepsFinished: number;
}

export interface LineageWorkflowInput {
  lineage: string;
  /** Set when continuing as new. */
  state?: LineageWorkflowState;
}

export const enqueueUpdate = defineUpdate<EnqueueResult, [EnqueueInput]>('enqueue');
/** `enqueue` for several requests, in order; one result each. */
export const enqueueManyUpdate = defineUpdate<EnqueueResult[], [EnqueueManyInput]>('enqueueMany');
/** Resolves true when the request was removed from the queue, false when its unlearning already started. */
export const cancelUpdate = defineUpdate<boolean, [CancelInput]>('cancel');
export const reviewUpdate = defineUpdate<void, [ReviewInput]>('review');
export const rollbackUpdate = defineUpdate<RollbackResult, [RollbackInput]>('rollback');
export const stateQuery = defineQuery<LineageWorkflowState>('state');
