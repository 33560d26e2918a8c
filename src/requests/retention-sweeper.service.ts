import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Retention } from './retention.service';

/** Whether this process runs the retention sweep (a boolean; see RequestsModule.withQueue). */
export const SWEEP_RETENTION = Symbol('SWEEP_RETENTION');
/** Rollback windows are days long: an hour late is well inside what the report promises ("purged when the window ends"). */
export const RETENTION_SWEEP_MS = 3_600_000;

/**
 * Purges the inline profiles whose rollback window ended, at start and then every RETENTION_SWEEP_MS. Any number of
 * processes may run it: each purge is checked and written under its lineage's lock, and an empty pass costs one query.
 */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RetentionSweeper');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly retention: Retention,
    @Inject(SWEEP_RETENTION) private readonly enabled: boolean,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.sweep();
    this.timer = setInterval(() => this.sweep(), RETENTION_SWEEP_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private sweep(): void {
    if (this.running) return;
    this.running = this.retention
      .purgeEndedRollbackWindows(new Date(), 'system')
      .then(() => undefined)
      .catch((err: Error) => this.logger.warn(`retention sweep failed, next try in ${RETENTION_SWEEP_MS / 60_000} min: ${err.message}`))
      .finally(() => {
        this.running = null;
      });
  }
}
