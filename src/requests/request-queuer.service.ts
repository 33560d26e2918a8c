import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
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

/**
 * The outbox reconciler: a stored request (RECEIVED, committed with its forget set) is queued on
 * its lineage workflow from here, never from the submission itself, so a submission answers once
 * the row is durable and no Temporal outage strands it. Submissions kick a pass; a poll catches
 * whatever a kick missed, and retries within QUEUER_POLL_MS once Temporal answers again.
 *
 * Exactly once: the queue is idempotent per request id (the update id within a workflow run, the
 * workflow's known ids across runs) and a step begins only requests still waiting in the database,
 * so a request enqueued twice (two processes, or a crash between enqueue and QUEUED) is applied once.
 */
@Injectable()
export class RequestQueuer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RequestQueuer');
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastFailure: string | null = null;

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
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Asks for a pass soon; passes never overlap (one more runs after the current one). */
  kick(): void {
    if (this.stopped || !this.enabled) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.again = false;
    this.running = this.drain().then((queuedAll) => {
      this.running = null;
      if (this.stopped) return;
      // After a failure the next try waits for the poll, however many submissions kicked meanwhile.
      if (queuedAll && this.again) this.kick();
      else this.timer = setTimeout(() => this.kick(), QUEUER_POLL_MS);
    });
  }

  /** Passes until one finds less than a full pass; false when a request could not be queued. */
  private async drain(): Promise<boolean> {
    try {
      for (;;) {
        const waiting = await this.requests.listReceived(PASS_SIZE);
        const results = await Promise.allSettled(waiting.map((request) => this.queueOne(request)));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        if (this.lastFailure && waiting.length > 0) this.logger.log(`queueing again: ${waiting.length} stored request(s) queued`);
        this.lastFailure = null;
        if (waiting.length < PASS_SIZE) return true;
      }
    } catch (err) {
      // Logged once per outage, not once per poll.
      const message = (err as Error)?.message ?? String(err);
      if (message !== this.lastFailure) this.logger.warn(`stored requests wait to be queued, retrying every ${QUEUER_POLL_MS} ms: ${message}`);
      this.lastFailure = message;
      return false;
    }
  }

  private async queueOne(request: Pick<DeletionRequest, 'id' | 'lineage'>): Promise<void> {
    await this.queue.enqueue(request.lineage, request.id);
    // Unless the workflow moved it on meanwhile (it may begin a request before this records QUEUED), or it was canceled.
    await this.lifecycle.moveWhere([request.id], ['RECEIVED'], 'QUEUED', { actor: SYSTEM_ACTOR, reason: `queued on lineage ${request.lineage}` });
  }
}
