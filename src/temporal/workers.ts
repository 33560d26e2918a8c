// Runs a set of Temporal workers (one per task queue) and stops them cleanly: shutdown() lets
// running activities finish their current attempt window, then resolves when every worker stopped.
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';

export interface WorkerSpec {
  taskQueue: string;
  activities?: object;
  /** Compiled workflows entry (dist/workflows/index.js), bundled at start. */
  workflowsPath?: string;
  /** A pre-built bundle (tests build one per file and share it). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivityTaskExecutions?: number;
}

export class RunningWorkers {
  private constructor(
    private readonly workers: Worker[],
    private readonly runs: Promise<void>[],
  ) {}

  static async start(connection: NativeConnection, namespace: string, specs: WorkerSpec[]): Promise<RunningWorkers> {
    const workers: Worker[] = [];
    for (const spec of specs) {
      workers.push(
        await Worker.create({
          connection,
          namespace,
          taskQueue: spec.taskQueue,
          activities: spec.activities,
          workflowsPath: spec.workflowsPath,
          workflowBundle: spec.workflowBundle,
          maxConcurrentActivityTaskExecutions: spec.maxConcurrentActivityTaskExecutions,
          shutdownGraceTime: '10 seconds',
        }),
      );
    }
    // Worker.run() rejects when a worker fails fatally; keep the rejection observable via done().
    const runs = workers.map((w) => w.run());
    return new RunningWorkers(workers, runs);
  }

  /** Resolves when every worker stopped; rejects with the first fatal worker error. */
  done(): Promise<void[]> {
    return Promise.all(this.runs);
  }

  async shutdown(): Promise<void> {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(this.runs);
  }
}
