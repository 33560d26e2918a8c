import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db } from '../database/sql';
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
 * next one: each still answers only once its row is durable, but a flush serves many.
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
          const inserted = await this.dataSource.transaction(async (tx) => {
            const results: boolean[] = [];
            for (const { submission } of batch) results.push(await this.write(tx, submission));
            return results;
          });
          batch.forEach((w, i) => w.resolve(inserted[i]));
        } catch {
          // One submission's failure must not fail the others: each alone, with its own error.
          for (const w of batch) {
            await this.dataSource.transaction((tx) => this.write(tx, w.submission)).then(w.resolve, w.reject);
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(tx: Db, { request, content, received }: StoredSubmission): Promise<boolean> {
    if (!(await this.requests.insertIfAbsent(tx, request))) return false;
    await this.forgetSets.store(tx, request.id, content);
    await this.eventLog.append(tx, received);
    return true;
  }
}
