import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { OutboxPump } from '../common/outbox-pump';
import { DeletionRequest } from './domain/deletion-request';
import { REQUEST_QUEUE, RequestQueue } from './domain/request-queue.port';
import { DeletionRequestRepository } from './persistence/deletion-request.repository';
import { RequestLifecycle } from './request-lifecycle.service';

const SYSTEM_ACTOR = 'system';
/** Whether this process runs the reconciler (a boolean; see RequestsModule.withQueue). */
export const QUEUE_STORED_REQUESTS = Symbol('QUEUE_STORED_REQUESTS');
/** How often the table is read for RECEIVED requests nobody kicked (another process's, a crash's) and after a failed enqueue. */
export const QUEUER_POLL_MS = 1000;
/** RECEIVED requests taken per pass; a fuller backlog is drained by the passes that follow at once. */
const PASS_SIZE = 500;
/** Requests per update on a lineage workflow (an update's payload and the workflow's history stay small). */
const BATCH_SIZE = 100;

/**
 * The outbox reconciler: a stored request (RECEIVED, committed with its forget set) is queued on
 * its lineage workflow from here, never from the submission itself, so a submission answers once
 * the row is durable and no Temporal outage strands it. Submissions kick a pass; a poll catches
 * whatever a kick missed, and retries within QUEUER_POLL_MS once Temporal answers again.
 *
 * Exactly once: the queue is idempotent per request id (the workflow's known ids) and a step begins only requests still waiting in the database,
 * so a request enqueued twice (two processes, or a crash between enqueue and QUEUED) is applied once.
 */
@Injectable()
export class RequestQueuer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly pump = new OutboxPump('RequestQueuer', () => this.pass(), QUEUER_POLL_MS, 'stored requests wait to be queued');

  constructor(
    private readonly requests: DeletionRequestRepository,
    private readonly lifecycle: RequestLifecycle,
    @Inject(REQUEST_QUEUE) private readonly queue: RequestQueue,
    @Inject(QUEUE_STORED_REQUESTS) private readonly enabled: boolean,
  ) {}

  onApplicationBootstrap(): void {
    // Requests a previous process stored but never queued are queued by the first pass.
    this.kick();
  }

  /** Before the Temporal client and the database close: the pass in flight finishes. */
  beforeApplicationShutdown(): Promise<void> {
    return this.pump.stop();
  }

  /** Asks for a pass soon; passes never overlap (one more runs after the current one). */
  kick(): void {
    if (this.enabled) this.pump.kick();
  }

  /** One pass: the requests of a batch that Temporal accepted are recorded QUEUED even when another batch failed. */
  private async pass(): Promise<'more' | 'done'> {
    const waiting = await this.requests.listReceived(PASS_SIZE);
    const batches = [...groupByLineage(waiting)].flatMap(([lineage, ids]) => chunks(ids, BATCH_SIZE).map((batch) => ({ lineage, ids: batch })));
    const results = await Promise.allSettled(batches.map(({ lineage, ids }) => this.queue.enqueueMany(lineage, ids)));
    await this.recordQueued(batches.filter((_, i) => results[i].status === 'fulfilled'));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return waiting.length < PASS_SIZE ? 'done' : 'more';
  }

  /**
   * QUEUED for those still RECEIVED: the workflow may begin a request before this records it, or a
   * requester cancel it. One transaction per batch: the event chain serializes its writers.
   */
  private async recordQueued(batches: Array<{ lineage: string; ids: string[] }>): Promise<void> {
    for (const { lineage, ids } of batches) {
      await this.lifecycle.moveWhere(ids, ['RECEIVED'], 'QUEUED', { actor: SYSTEM_ACTOR, reason: `queued on lineage ${lineage}` });
    }
  }
}

function groupByLineage(requests: Array<Pick<DeletionRequest, 'id' | 'lineage'>>): Map<string, string[]> {
  const byLineage = new Map<string, string[]>();
  for (const { id, lineage } of requests) byLineage.set(lineage, [...(byLineage.get(lineage) ?? []), id]);
  return byLineage;
}

function chunks<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}
