import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module';
import { temporalAnswers } from '../temporal/temporal-probe';
import {
  COMPLETION_BUCKETS_SECONDS,
  DeadlineState,
  DurationHistogram,
  OPEN_STATUSES,
  PHASE_BUCKETS_SECONDS,
  QUEUED_STATUSES,
  QueueState,
  StatusCount,
  StepPhase,
  WebhookDeliveryState,
} from './domain/operational-metrics';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { WEBHOOK_EVENT_TYPES } from '../notifications/domain/notification-events';
import { OperationsRepository } from './persistence/operations.repository';

/** How long a readiness probe waits for each dependency: under a kubelet's default 1 s timeout is not realistic for both, so 2 s each. */
export const READINESS_TIMEOUT_MS = 2_000;

export type DependencyState = 'ok' | 'not ready';
export interface Readiness {
  ready: boolean;
  database: DependencyState;
  temporal: DependencyState;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The figures /metrics exposes and the readiness of what the API depends on. */
@Injectable()
export class OperationsService {
  constructor(
    private readonly repository: OperationsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    /** Absent only where a test replaces the orchestration (then Temporal is reported not ready). */
    @Optional() @Inject(TEMPORAL_CLIENT) private readonly temporal?: Client,
  ) {}

  statusCounts(): Promise<StatusCount[]> {
    return this.repository.countByStatus();
  }

  queues(): Promise<QueueState[]> {
    return this.repository.queues(QUEUED_STATUSES);
  }

  deadlines(): Promise<DeadlineState[]> {
    return this.repository.deadlines(OPEN_STATUSES, this.dueSoonDays * 24 * 3600);
  }

  /** The due-soon window of the deadline metric, the same as the deadline sweep's. */
  get dueSoonDays(): number {
    return this.config.dueSoonDays;
  }

  webhookDeliveries(): Promise<WebhookDeliveryState[]> {
    return this.repository.webhookDeliveries(WEBHOOK_EVENT_TYPES);
  }

  completionDurations(): Promise<DurationHistogram[]> {
    return this.repository.completionDurations(COMPLETION_BUCKETS_SECONDS);
  }

  phaseDurations(phase: StepPhase): Promise<DurationHistogram[]> {
    return this.repository.phaseDurations(phase, PHASE_BUCKETS_SECONDS);
  }

  /** Throws when the database does not answer (liveness: a 500). */
  databaseRoundTrip(): Promise<void> {
    return this.repository.ping();
  }

  async readiness(): Promise<Readiness> {
    const [database, temporal] = await Promise.all([
      within(this.repository.ping(), READINESS_TIMEOUT_MS).then(
        () => 'ok' as const,
        () => 'not ready' as const,
      ),
      this.temporal ? temporalAnswers(this.temporal, READINESS_TIMEOUT_MS).then((up) => (up ? ('ok' as const) : ('not ready' as const))) : Promise.resolve('not ready' as const),
    ]);
    return { ready: database === 'ok' && temporal === 'ok', database, temporal };
  }
}
