// Shared setup of the workflow tests: the real dev server, the real workflow bundle, workers on
// the `control`, `gpu` and `audit` queues serving scripted activities, and the real client side.
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { RunningWorkers } from '../../src/temporal/workers';
import { TemporalRequestQueue } from '../../src/orchestration/temporal-request-queue';
import { AUDIT_TASK_QUEUE, CONTROL_TASK_QUEUE } from '../../src/orchestration/activity-types';
import { GPU_TASK_QUEUE } from '../../src/orchestration/contracts';
import { LINEAGE_WORKFLOWS_PATH } from '../../src/orchestration/workflows-path';
import { ScriptedPlane } from './scripted-activities';

export interface Harness {
  temporal: TestTemporal;
  plane: ScriptedPlane;
  queue: TemporalRequestQueue;
  workers: RunningWorkers;
  stop(): Promise<void>;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | null = null;
/** Bundling (webpack) costs seconds: once per test process. */
export function lineageWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: LINEAGE_WORKFLOWS_PATH, logger: quietLogger });
  return bundle;
}

export async function startHarness(options: { dynamicConfig?: Record<string, string | number | boolean> } = {}): Promise<Harness> {
  const [temporal, workflowBundle] = await Promise.all([startTestTemporal(options), lineageWorkflowBundle()]);
  const plane = new ScriptedPlane();
  const workers = await RunningWorkers.start(temporal.nativeConnection, 'default', [
    { taskQueue: CONTROL_TASK_QUEUE, workflowBundle, activities: plane.controlActivities() },
    { taskQueue: GPU_TASK_QUEUE, activities: plane.gpuActivities() },
    { taskQueue: AUDIT_TASK_QUEUE, activities: plane.auditActivities() },
  ]);
  const queue = new TemporalRequestQueue(temporal.client);
  return {
    temporal,
    plane,
    queue,
    workers,
    async stop() {
      await workers.shutdown();
      await temporal.stop();
    },
  };
}

/** Polls until `check` stops throwing (returns its value) or the time is up (rethrows its last error). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const quietLogger = {
  log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined,
  warn: (message: string) => console.warn(message), error: (message: string) => console.error(message),
};

export const HISTORIES_DIR = path.resolve(__dirname, '../../../test/orchestration/histories');
