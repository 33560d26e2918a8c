import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { CONTROL_TASK_QUEUE } from '../../workflows/task-queues';

export const DEADLINE_SWEEP_SCHEDULE_ID = 'lethe-deadline-sweep';
/** Daily, early in the European working day (UTC). */
export const DEADLINE_SWEEP_CRON = '0 6 * * *';
/** After a failed try (Temporal unreachable at start), the next one. */
const RETRY_MS = 60_000;

/**
 * Makes sure the Temporal schedule of the daily deadline sweep exists (the API creates it at start;
 * a second API finds it there). A sweep missed while Temporal was down runs when it is back.
 */
@Injectable()
export class DeadlineSchedule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('DeadlineSchedule');
  private timer: NodeJS.Timeout | null = null;
  private trying: Promise<void> | null = null;

  constructor(private readonly client: Client) {}

  /** Not awaited: the API answers while Temporal is away (the intake outbox holds submissions meanwhile). */
  onApplicationBootstrap(): void {
    this.trying = this.ensure();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.trying;
  }

  private async ensure(): Promise<void> {
    try {
      await this.client.schedule.create({
        scheduleId: DEADLINE_SWEEP_SCHEDULE_ID,
        spec: { cronExpressions: [DEADLINE_SWEEP_CRON] },
        action: { type: 'startWorkflow', workflowType: 'deadlineSweepWorkflow', taskQueue: CONTROL_TASK_QUEUE, args: [] },
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      });
      this.logger.log(`schedule ${DEADLINE_SWEEP_SCHEDULE_ID} created (${DEADLINE_SWEEP_CRON} UTC)`);
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) return;
      this.logger.warn(`could not create schedule ${DEADLINE_SWEEP_SCHEDULE_ID}, retrying in ${RETRY_MS / 1000} s: ${(err as Error).message}`);
      this.timer = setTimeout(() => {
        this.trying = this.ensure();
      }, RETRY_MS);
    }
  }
}
