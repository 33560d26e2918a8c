// GpuWorkerPresence on Temporal: the server remembers each poller of a task queue and when it last
// polled. A live, idle worker re-polls at least every minute (long polls); one busy with a task, or
// gone, stops polling, and then no forget-set plaintext is written for it.
import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common';
import { GPU_TASK_QUEUE } from '../common/gpu-contracts';
import type { GpuWorkerPresence } from './forget-set-files.service';

/** Longer than a long poll (about 60 s), so an idle worker between two polls still counts. */
const POLLED_WITHIN_MS = 90_000;
// temporal.api.enums.v1 values (the proto package is not a direct dependency of the service).
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

export class TemporalGpuPresence implements GpuWorkerPresence {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string = GPU_TASK_QUEUE,
  ) {}

  async isPolling(): Promise<boolean> {
    const { pollers } = await this.client.workflowService.describeTaskQueue({
      namespace: this.client.options.namespace,
      taskQueue: { name: this.taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
      taskQueueType: TASK_QUEUE_TYPE_ACTIVITY,
    });
    const now = Date.now();
    return (pollers ?? []).some((p) => now - (optionalTsToMs(p.lastAccessTime) ?? 0) < POLLED_WITHIN_MS);
  }
}
