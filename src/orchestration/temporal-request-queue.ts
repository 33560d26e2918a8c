// The Temporal implementation of the RequestQueue port: every call is an update on the
// lineage's workflow (`lineage:<name>`), started on demand (update-with-start), so a message
// returns only once the workflow has durably accepted it.
import { ApplicationFailure } from '@temporalio/common';
import { Client, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { RequestQueue, ReviewDecision } from '../requests/domain/request-queue.port';
import { cancelUpdate, enqueueUpdate, lineageWorkflowId, LINEAGE_WORKFLOW_TYPE, reviewUpdate, rollbackUpdate, stateQuery, type LineageWorkflowInput, type LineageWorkflowState } from '../../workflows/messages';
import { CONTROL_TASK_QUEUE } from './activity-types';
import { fromWorkflowFailure } from './orchestration-error';

export class TemporalRequestQueue implements RequestQueue {
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

  async cancel(lineage: string, requestId: string): Promise<boolean> {
    return this.send(lineage, cancelUpdate, [{ requestId }]);
  }

  async review(lineage: string, requestId: string, decision: ReviewDecision, reason: string, actor: string): Promise<void> {
    await this.send(lineage, reviewUpdate, [{ requestId, decision, reason, actor }]);
  }

  async rollback(lineage: string, toVersion: number, reason: string, actor: string): Promise<void> {
    await this.send(lineage, rollbackUpdate, [{ toVersion, reason, actor }]);
  }

  /** The workflow's state (queue, active step, versions), for operators and tests. */
  async state(lineage: string): Promise<LineageWorkflowState> {
    return this.client.workflow.getHandle(lineageWorkflowId(lineage)).query(stateQuery);
  }

  private async send<Ret, Args extends any[]>(lineage: string, update: UpdateDefinition<Ret, Args>, args: Args, updateId?: string): Promise<Ret> {
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
