// The Temporal implementation of the RequestQueue port: every call is an update on the
// lineage's workflow (`lineage:<name>`), started on demand (update-with-start), so a message
// returns only once the workflow has durably accepted it.
import { ApplicationFailure } from '@temporalio/common';
import { Client, isGrpcServiceError, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { RequestQueue, ReviewDecision, StepProgress } from '../requests/domain/request-queue.port';
import { cancelUpdate, enqueueManyUpdate, enqueueUpdate, lineageWorkflowId, LINEAGE_WORKFLOW_TYPE, reviewUpdate, rollbackUpdate, stateQuery, type LineageWorkflowInput, type LineageWorkflowState } from '../../workflows/messages';
import { CONTROL_TASK_QUEUE } from './activity-types';
import { heartbeatCount } from './domain/heartbeat';
import { fromWorkflowFailure } from './domain/orchestration-error';

/** gRPC RESOURCE_EXHAUSTED: the server caps the updates in flight per workflow (history.maxInFlightUpdates). */
const RESOURCE_EXHAUSTED = 8;
/** Updates this process sends to one lineage at a time, below the server's per-workflow cap (10). */
const MAX_IN_FLIGHT_PER_LINEAGE = 6;
/** How long a message keeps retrying a saturated workflow before the error reaches the caller. */
const SATURATION_RETRY_MS = 30_000;

export class TemporalRequestQueue implements RequestQueue {
  private readonly slots = new Map<string, { inFlight: number; waiting: Array<() => void> }>();

  constructor(
    private readonly client: Client,
    /** Task queue of the lineage workflows (the TypeScript worker's `control` queue). */
    private readonly taskQueue: string = CONTROL_TASK_QUEUE,
  ) {}

  async enqueue(lineage: string, requestId: string): Promise<void> {
    // The update id makes a retried call (same request id) one update while the workflow run lasts;
    // the workflow's own dedupe keys cover retries across runs.
    await this.send(lineage, enqueueUpdate, [{ requestId }], `enqueue:${requestId}`);
  }

  async enqueueMany(lineage: string, requestIds: readonly string[]): Promise<void> {
    // No update id: the workflow's known ids make a repeated batch a no-op.
    await this.send(lineage, enqueueManyUpdate, [{ requestIds: [...requestIds] }]);
  }

  async cancel(lineage: string, requestId: string): Promise<boolean> {
    return this.send(lineage, cancelUpdate, [{ requestId }]);
  }

  async review(lineage: string, requestId: string, decision: ReviewDecision, reason: string, actor: string): Promise<void> {
    await this.send(lineage, reviewUpdate, [{ requestId, decision, reason, actor }]);
  }

  async rollback(lineage: string, toVersion: number, reason: string, actor: string): Promise<void> {
    await this.send(lineage, rollbackUpdate, [{ toVersion, reason, actor }]);
  }

  async progress(lineage: string, requestId: string): Promise<StepProgress | null> {
    const handle = this.client.workflow.getHandle(lineageWorkflowId(lineage));
    const [state, description] = await Promise.all([handle.query(stateQuery), handle.describe()]);
    const active = state.active;
    if (!active || !active.requestIds.includes(requestId)) return null;
    // A step runs one activity at a time; the one that heartbeated is the one at work.
    const pending = description.raw.pendingActivities ?? [];
    const running = pending.find((a) => a.lastHeartbeatTime) ?? pending[0];
    const payload = running?.heartbeatDetails?.payloads?.[0];
    const count = payload ? heartbeatCount(this.client.options.loadedDataConverter.payloadConverter.fromPayload(payload)) : null;
    return {
      phase: active.phase,
      attempt: active.attempt,
      reforgetPass: active.reforgetPass,
      activity: running?.activityType?.name ?? null,
      step: count?.step ?? null,
      total: count?.total ?? null,
    };
  }

  /** The workflow's state (queue, active step, versions), for operators and tests. */
  async state(lineage: string): Promise<LineageWorkflowState> {
    return this.client.workflow.getHandle(lineageWorkflowId(lineage)).query(stateQuery);
  }

  private async send<Ret, Args extends unknown[]>(lineage: string, update: UpdateDefinition<Ret, Args>, args: Args, updateId?: string): Promise<Ret> {
    await this.acquire(lineage);
    try {
      // A burst from several API processes can still saturate the workflow: back off and retry.
      const deadline = Date.now() + SATURATION_RETRY_MS;
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.sendOnce(lineage, update, args, updateId);
        } catch (err) {
          if (!isSaturated(err) || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random())));
        }
      }
    } finally {
      this.release(lineage);
    }
  }

  private async acquire(lineage: string): Promise<void> {
    const slot = this.slots.get(lineage) ?? { inFlight: 0, waiting: [] };
    this.slots.set(lineage, slot);
    if (slot.inFlight < MAX_IN_FLIGHT_PER_LINEAGE) {
      slot.inFlight += 1;
      return;
    }
    await new Promise<void>((resolve) => slot.waiting.push(resolve));
  }

  private release(lineage: string): void {
    const slot = this.slots.get(lineage)!;
    const next = slot.waiting.shift();
    if (next) return next(); // the slot passes to the next waiter
    slot.inFlight -= 1;
    if (slot.inFlight === 0) this.slots.delete(lineage);
  }

  private async sendOnce<Ret, Args extends unknown[]>(lineage: string, update: UpdateDefinition<Ret, Args>, args: Args, updateId?: string): Promise<Ret> {
    const workflowId = lineageWorkflowId(lineage);
    const startWorkflowOperation = new WithStartWorkflowOperation(LINEAGE_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: this.taskQueue,
      args: [{ lineage } satisfies LineageWorkflowInput],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    try {
      return await this.client.workflow.executeUpdateWithStart(update, { args, updateId, startWorkflowOperation });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
        const mapped = fromWorkflowFailure(err.cause.type, err.cause.message);
        if (mapped) throw mapped;
      }
      throw err;
    }
  }
}

function isSaturated(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e) && e.code === RESOURCE_EXHAUSTED) return true;
  }
  return false;
}
