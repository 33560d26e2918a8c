import { Logger } from '@nestjs/common';

/** One pass over an outbox: `'more'` when it took a full batch (another pass follows at once), `'done'` otherwise. */
export type OutboxPass = () => Promise<'more' | 'done'>;

/**
 * The loop behind every outbox in the service (stored requests to queue on their lineage, webhook
 * deliveries to start): rows committed with the change that causes them are handed to Temporal from
 * here. `kick()` asks for a pass soon (a writer in this process just committed); a poll every
 * `pollMs` catches whatever no kick announced (another process's rows, a crash) and retries after a
 * failure. Passes never overlap; a failure is logged once per outage, not once per poll.
 */
export class OutboxPump {
  private readonly logger: Logger;
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastFailure: string | null = null;

  constructor(
    name: string,
    private readonly pass: OutboxPass,
    private readonly pollMs: number,
    /** What waits, for the log lines: e.g. "stored requests wait to be queued". */
    private readonly waitingWhat: string,
  ) {
    this.logger = new Logger(name);
  }

  /** Asks for a pass soon; passes never overlap (one more runs after the current one). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.again = false;
    this.running = this.drain().then((drained) => {
      this.running = null;
      if (this.stopped) return;
      // After a failure the next try waits for the poll, however many writers kicked meanwhile.
      if (drained && this.again) this.kick();
      else this.timer = setTimeout(() => this.kick(), this.pollMs);
    });
  }

  /** The pass in flight finishes; no other starts. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Passes until one finds less than a full batch; false when a pass failed. */
  private async drain(): Promise<boolean> {
    try {
      for (;;) {
        const result = await this.pass();
        if (this.lastFailure) this.logger.log(`${this.waitingWhat}: going again`);
        this.lastFailure = null;
        if (result === 'done') return true;
      }
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      if (message !== this.lastFailure) this.logger.warn(`${this.waitingWhat}, retrying every ${this.pollMs} ms: ${message}`);
      this.lastFailure = message;
      return false;
    }
  }
}
