import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db } from '../database/sql';
import { EventLog } from '../events/event-log.service';
import { DeletionRequest } from './domain/deletion-request';
import { RequestError } from './domain/request-error';
import { assertTransition, RequestStatus } from './domain/request-status';
import { DeletionRequestRepository } from './persistence/deletion-request.repository';

export interface TransitionOptions {
  actor: string;
  reason?: string | null;
  /** Sets the model version that carried the request out (on COMPLETED). */
  modelVersionId?: string | null;
  /** Extra, non-personal facts for the event (version number, attempt...). */
  data?: Record<string, unknown>;
}

/** The only writer of request statuses (checks the transition, updates, and logs the event, in one transaction), and their reader for the workflow. */
@Injectable()
export class RequestLifecycle {
  constructor(
    private readonly dataSource: DataSource,
    private readonly requests: DeletionRequestRepository,
    private readonly eventLog: EventLog,
  ) {}

  find(requestId: string): Promise<DeletionRequest | null> {
    return this.requests.findById(requestId);
  }

  /** In the order of `requestIds`; NOT_FOUND for an id that names no request. */
  async findMany(requestIds: readonly string[]): Promise<DeletionRequest[]> {
    return Promise.all(
      requestIds.map(async (id) => {
        const request = await this.requests.findById(id);
        if (!request) throw new RequestError('NOT_FOUND', `no deletion request ${id}`);
        return request;
      }),
    );
  }

  /** A lineage's requests in one of `statuses`, oldest first. */
  inLineage(lineage: string, statuses: RequestStatus[]): Promise<DeletionRequest[]> {
    return this.requests.listByLineageAndStatus(lineage, statuses);
  }

  async transition(tx: Db, requestId: string, to: RequestStatus, options: TransitionOptions): Promise<DeletionRequest> {
    const request = await this.requests.findByIdForUpdate(tx, requestId);
    if (!request) throw new RequestError('NOT_FOUND', `no deletion request ${requestId}`);
    await this.write(tx, [request], to, options);
    return (await this.requests.findById(requestId, tx))!;
  }

  /** Same, in its own transaction. */
  transitionNow(requestId: string, to: RequestStatus, options: TransitionOptions): Promise<DeletionRequest> {
    return this.dataSource.transaction((tx) => this.transition(tx, requestId, to, options));
  }

  /**
   * Moves only the requests currently in one of `from` (others are left alone and not returned):
   * e.g. beginning a batch skips requests canceled meanwhile. A few statements whatever the number
   * of requests: the rows are locked first (in id order), then updated together, then their events
   * appended in the order of `requestIds`.
   */
  async transitionWhere(tx: Db, requestIds: readonly string[], from: readonly RequestStatus[], to: RequestStatus, options: TransitionOptions): Promise<string[]> {
    if (requestIds.length === 0) return [];
    const locked = new Map((await this.requests.findManyForUpdate(tx, requestIds)).map((request) => [request.id, request]));
    const moving = [...new Set(requestIds)].flatMap((id) => {
      const current = locked.get(id);
      return current && from.includes(current.status) ? [current] : [];
    });
    await this.write(tx, moving, to, options);
    return moving.map((request) => request.id);
  }

  /** Checks every move first, so an illegal one changes nothing; then one update and the events in this order. */
  private async write(tx: Db, requests: readonly DeletionRequest[], to: RequestStatus, options: TransitionOptions): Promise<void> {
    if (requests.length === 0) return;
    for (const request of requests) assertTransition(request.id, request.status, to);
    await this.requests.updateStatus(tx, requests.map((request) => request.id), to, options.reason ?? null, options.modelVersionId);
    await this.eventLog.appendMany(
      tx,
      requests.map((request) => ({
        actor: options.actor,
        type: 'request.status_changed',
        entityType: 'request' as const,
        entityId: request.id,
        reason: options.reason ?? null,
        data: { lineage: request.lineage, from: request.status, to, ...(options.modelVersionId ? { modelVersionId: options.modelVersionId } : {}), ...options.data },
      })),
    );
  }

  /** transitionWhere in its own transaction. */
  moveWhere(requestIds: readonly string[], from: readonly RequestStatus[], to: RequestStatus, options: TransitionOptions): Promise<string[]> {
    return this.dataSource.transaction((tx) => this.transitionWhere(tx, requestIds, from, to, options));
  }
}
