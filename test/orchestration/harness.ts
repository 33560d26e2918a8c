// Shared setup of the workflow tests: the real dev server, the real workflow bundle, workers on
// the `control`, `gpu` and `audit` queues serving scripted activities, and the real client side.
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { RunningWorkers } from '../../src/temporal/workers';
import { TemporalRequestQueue } from '../../src/orchestration/temporal-request-queue';
import { AUDIT_TASK_QUEUE, CONTROL_TASK_QUEUE } from '../../src/orchestration/activity-types';
import { GPU_TASK_QUEUE } from '../../src/common/gpu-contracts';
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

export interface HarnessOptions {
  dynamicConfig?: Record<string, string | number | boolean>;
  /** false: leave queue `gpu` to a real Python worker. */
  scriptedGpu?: boolean;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const [temporal, workflowBundle] = await Promise.all([startTestTemporal(options), lineageWorkflowBundle()]);
  const plane = new ScriptedPlane();
  const workers = await RunningWorkers.start(temporal.nativeConnection, 'default', [
    { taskQueue: CONTROL_TASK_QUEUE, workflowBundle, activities: plane.controlActivities() },
    ...(options.scriptedGpu === false ? [] : [{ taskQueue: GPU_TASK_QUEUE, activities: plane.gpuActivities() }]),
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

/** Recorded histories live in the source tree (committed), not in dist/. */
export const HISTORIES_DIR = path.resolve(__dirname, '../../../test/orchestration/histories');

const History = temporal.api.history.v1.History;

/**
 * A recorded history. Stored as protobuf bytes: the proto-JSON helpers of @temporalio/common
 * (historyToJSON) fail in this install because it nests a second protobufjs major version.
 */
export interface RecordedHistory {
  workflowId: string;
  events: string[];
  historyProtobufBase64: string;
}

export function loadRecordedHistory(file: string): { workflowId: string; history: temporal.api.history.v1.IHistory } {
  const recorded = JSON.parse(fs.readFileSync(file, 'utf8')) as RecordedHistory;
  return { workflowId: recorded.workflowId, history: History.decode(Buffer.from(recorded.historyProtobufBase64, 'base64')) };
}

/**
 * With LETHE_RECORD_HISTORIES=1, writes the history of each given run to HISTORIES_DIR/<name>.json:
 * the replay test then runs them through the current workflow code to catch non-determinism.
 */
export async function recordHistories(h: Pick<Harness, 'temporal'>, runs: Array<{ name: string; workflowId: string; runId?: string }>): Promise<void> {
  if (process.env.LETHE_RECORD_HISTORIES !== '1') return;
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  for (const run of runs) {
    const history = await h.temporal.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const encoded = History.encode(History.fromObject(history)).finish();
    const file: RecordedHistory = {
      workflowId: run.workflowId,
      // For people reading a diff; the replay uses the protobuf bytes below.
      events: (history.events ?? []).map((e) => `${e.eventId} ${temporal.api.enums.v1.EventType[e.eventType ?? 0]}`),
      historyProtobufBase64: Buffer.from(encoded).toString('base64'),
    };
    fs.writeFileSync(path.join(HISTORIES_DIR, `${run.name}.json`), JSON.stringify(file, null, 1) + '\n');
  }
}
