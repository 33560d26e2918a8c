// A RequestQueue that records calls, for tests of the API alone (no workflow). The integration
// tests use the real Temporal queue instead.
import { Module } from '@nestjs/common';
import { REQUEST_QUEUE, RequestQueue, ReviewDecision, StepProgress } from '../../src/requests/domain/request-queue.port';

export class RecordingQueue implements RequestQueue {
  readonly enqueued: Array<{ lineage: string; requestId: string }> = [];
  readonly canceled: string[] = [];
  readonly reviews: Array<{ requestId: string; decision: ReviewDecision; reason: string; actor: string }> = [];
  readonly rollbacks: Array<{ lineage: string; toVersion: number; reason: string; actor: string }> = [];
  /** Set to make enqueue fail, e.g. to test recovery. */
  failEnqueue: Error | null = null;
  /** What `progress` answers, by request id (none: no running step carries the request). */
  readonly progressOf = new Map<string, StepProgress>();
  /** Request ids the "workflow" already started: cancel returns false for them. */
  readonly started = new Set<string>();

  async enqueue(lineage: string, requestId: string): Promise<void> {
    if (this.failEnqueue) throw this.failEnqueue;
    if (!this.enqueued.some((e) => e.requestId === requestId)) this.enqueued.push({ lineage, requestId });
  }

  async enqueueMany(lineage: string, requestIds: readonly string[]): Promise<void> {
    for (const requestId of requestIds) await this.enqueue(lineage, requestId);
  }

  async progress(_lineage: string, requestId: string): Promise<StepProgress | null> {
    return this.progressOf.get(requestId) ?? null;
  }

  async cancel(_lineage: string, requestId: string): Promise<boolean> {
    if (this.started.has(requestId)) return false;
    this.canceled.push(requestId);
    return true;
  }

  async review(_lineage: string, requestId: string, decision: ReviewDecision, reason: string, actor: string): Promise<void> {
    this.reviews.push({ requestId, decision, reason, actor });
  }

  async rollback(lineage: string, toVersion: number, reason: string, actor: string): Promise<void> {
    this.rollbacks.push({ lineage, toVersion, reason, actor });
  }
}

export function recordingQueueModule(queue: RecordingQueue) {
  @Module({ providers: [{ provide: REQUEST_QUEUE, useValue: queue }], exports: [REQUEST_QUEUE] })
  class RecordingQueueModule {}
  return RecordingQueueModule;
}
