import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { NewEvent } from '../events/domain/event';
import { EventLog } from '../events/event-log.service';
import { ForgetSetContent } from './domain/forget-set';
import { ForgetSets } from './forget-sets.service';
import { DeletionRequestRepository, NewDeletionRequest } from './persistence/deletion-request.repository';

/** A submission ready to store: the request row, its personal data, and its `request.received` event. */
export interface StoredSubmission {
  request: NewDeletionRequest;
  content: ForgetSetContent;
  received: NewEvent;
}

interface Waiting {
  submission: StoredSubmission;
  resolve(inserted: boolean): void;
  reject(err: unknown): void;
}

/** Submissions one transaction stores at most. */
const MAX_BATCH = 64;

/**
 * Stores submissions with group commit. Every event goes into one hash chain, whose lock is held
 * until the commit is on disk, so one transaction per submission caps intake at one disk flush
 * each. Here the submissions that arrive while a transaction commits are stored together in the
 * next one, in one statement per table: each still answers only once its row is durable, but a
 * flush and a round trip serve many.
 */
@Injectable()
export class IntakeWriter {
  private readonly waiting: Waiting[] = [];
  private writing = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly requests: DeletionRequestRepository,
    private readonly forgetSets: ForgetSets,
    private readonly eventLog: EventLog,
  ) {}

  /** Resolves once committed: true when stored, false when (requester, idempotency key) already existed. */
  store(submission: StoredSubmission): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ submission, resolve, reject });
      void this.writeAll();
    });
  }

  private async writeAll(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, MAX_BATCH);
        try {
          const inserted = await this.write(batch.map((w) => w.submission));
          batch.forEach((w) => w.resolve(inserted.has(w.submission.request.id)));
        } catch {
          // One submission's failure must not fail the others: each alone, with its own error.
          for (const w of batch) {
            await this.write([w.submission]).then((inserted) => w.resolve(inserted.has(w.submission.request.id)), w.reject);
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /**
   * One transaction of a few statements whatever the batch's size: the requests, then the forget
   * sets and events of those inserted. The events go last, so the chain's lock (which every writer
   * of the log waits on) is held only for one insert and the commit.
   */
  private async write(submissions: readonly StoredSubmission[]): Promise<Set<string>> {
    const sealed = submissions.map(({ request, content }) => this.forgetSets.seal(request.id, content));
    return this.dataSource.transaction(async (tx) => {
      const inserted = await this.requests.insertIfAbsent(tx, submissions.map((s) => s.request));
      await this.forgetSets.store(tx, sealed.filter((s) => inserted.has(s.requestId)));
      await this.eventLog.appendMany(tx, submissions.filter((s) => inserted.has(s.request.id)).map((s) => s.received));
      return inserted;
    });
  }
}
