import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { EventLog } from '../events/event-log.service';
import { DEADLINE_EVENTS, deadlineWindows, type DeadlineKind } from './domain/deadline';
import { UNFINISHED } from './domain/request-status';
import { DeletionRequestRepository } from './persistence/deletion-request.repository';

export interface DeadlineSweep {
  dueSoon: string[];
  overdue: string[];
}

/**
 * The daily deadline sweep: an open request due within `dueSoonDays` gets a `request.due_soon`
 * event, one past its due date a `request.overdue` event, each once per request. Notice and event
 * commit together, so a sweep that fails half way raises the rest on the next run.
 */
@Injectable()
export class RequestDeadlines {
  constructor(
    private readonly dataSource: DataSource,
    private readonly requests: DeletionRequestRepository,
    private readonly eventLog: EventLog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  sweep(now = new Date()): Promise<DeadlineSweep> {
    const windows = deadlineWindows(now, this.config.dueSoonDays);
    return this.dataSource.transaction(async (tx) => {
      const raised: DeadlineSweep = { dueSoon: [], overdue: [] };
      for (const kind of ['OVERDUE', 'DUE_SOON'] as DeadlineKind[]) {
        const claimed = await this.requests.claimDeadlineNotices(tx, kind, UNFINISHED, windows[kind].from, windows[kind].to);
        for (const request of claimed) {
          await this.eventLog.append(tx, {
            actor: 'system',
            type: DEADLINE_EVENTS[kind],
            entityType: 'request',
            entityId: request.id,
            reason: kind === 'OVERDUE' ? 'past its due date' : `due within ${this.config.dueSoonDays} days`,
            data: { lineage: request.lineage, status: request.status, dueAt: request.dueAt.toISOString() },
          });
        }
        raised[kind === 'OVERDUE' ? 'overdue' : 'dueSoon'] = claimed.map((r) => r.id);
      }
      return raised;
    });
  }
}
