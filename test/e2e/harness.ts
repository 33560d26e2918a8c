// The whole product as `npm run up` runs it (scripts/lib/stack.cjs: embedded Postgres, Temporal
// dev server, API, TypeScript worker, Python GPU worker on the tiny LLaVA), in a private data dir
// on loopback, plus the GraphQL calls the end-to-end and fault tests share.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { GqlClient } from '../support/gql';

const ROOT = path.resolve(__dirname, '../../..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startStack } = require(path.join(ROOT, 'scripts/lib/stack.cjs')) as { startStack: (opts: object) => Promise<RunningStack> };

export interface StackChild {
  /** restart: false keeps it dead (the supervisor stops restarting it). */
  kill(signal?: NodeJS.Signals, options?: { restart?: boolean }): void;
  proc: { pid?: number } | null;
  alive(): boolean;
  stop(): Promise<void>;
  start(): void;
  restarts: number;
}

export interface RunningStack {
  baseUrl: string;
  dataDir: string;
  /** worker and gpu, plus worker2, gpu2, ... when startE2eStack's `workers` asks for more than one. */
  children: { api: StackChild; worker: StackChild; gpu: StackChild; [name: string]: StackChild };
  temporalAddress: string;
  postgres: { restart(downMs?: number): Promise<void> } | null;
  stop(): Promise<void>;
}

export interface E2eStack {
  stack: RunningStack;
  gql: GqlClient;
  /** Stops everything and removes the data dir (LETHE_E2E_KEEP=1 keeps it, with stack.log). */
  stop(): Promise<void>;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name}: not set; run the tests through \`npm test\` (it builds the tiny model and the Python environment)`);
  return value;
}

/** For before() hooks: Postgres (up to 120 s), Temporal, then the API's health (up to 120 s). */
export const STACK_START_HOOK_TIMEOUT_MS = 300_000;

/**
 * `port`: the API's (default: a free one); `startTimeoutMs`: how long the API may take to become healthy;
 * `workers`: how many TypeScript and GPU workers (default one of each).
 */
export async function startE2eStack(name: string, env: Record<string, string> = {}, options: { port?: number; startTimeoutMs?: number; workers?: { ts?: number; gpu?: number } } = {}): Promise<E2eStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `lethe-e2e-${name}-`));
  // Written as it comes, so a slow or hung run can be watched (tail -f) while it runs.
  const logFile = path.join(dataDir, 'stack.log');
  const stack = await startStack({
    dataDir,
    port: options.port ?? 0,
    startTimeoutMs: options.startTimeoutMs,
    workers: options.workers,
    py: { python: requiredEnv('LETHE_PYTHON'), temporal: requiredEnv('LETHE_TEMPORAL_BIN') },
    tinyRoot: requiredEnv('LETHE_TINY_MODEL_ROOT'),
    // Two cores shared by everything: one torch thread for the GPU worker.
    env: { LETHE_TORCH_THREADS: '1', ...env },
    log: (line: string) => {
      fs.appendFileSync(logFile, line + '\n');
      if (process.env.LETHE_E2E_VERBOSE) process.stderr.write(line + '\n');
    },
  }).catch((err: Error) => {
    // CI keeps only the test output: the children's last words are the only clue to a failed start.
    const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-60).join('\n') : '(no output)';
    throw new Error(`${err.message}\nlast lines of ${logFile}:\n${tail}`);
  });
  const token = fs.readFileSync(path.join(dataDir, 'operator.token'), 'utf8').trim();
  return {
    stack,
    gql: new GqlClient(stack.baseUrl, token),
    async stop() {
      await stack.stop();
      if (process.env.LETHE_E2E_KEEP) process.stderr.write(`e2e data kept in ${dataDir}\n`);
      else fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * For the fault and load tests, which check recovery and exactly-once delivery, not forgetting:
 * every audited candidate passes, so their outcome does not depend on the tiny model's quality.
 */
export const ALWAYS_PROMOTE_GATE_POLICY = {
  // The forgetting rules at their "off" settings (forgetting-rules.ts).
  forget: { maxAccuracyAboveChance: 0.75, minForgetQuality: 0, maxMiaAucDistance: 0.5, refuseBelowChance: false, freeFormProbe: false },
  retain: { minFractionOfBaseline: 0 },
  general: { minFractionOfBaseline: 0 },
};

/**
 * These tests count versions (one per request, or per attempt), so their lineages do not re-forget unless a test
 * asks; the re-forget passes of the default are tested in test/orchestration (workflow and control plane).
 */
export async function createLineage(gql: GqlClient, name: string, input: Record<string, unknown> = {}): Promise<void> {
  await gql.ok('mutation ($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }', { input: { name, reforgetPasses: 0, ...input } });
}

export interface SubmittedRequest {
  id: string;
  status: string;
}

export async function submit(gql: GqlClient, lineage: string, idempotencyKey: string, datasetSubjectId: string): Promise<SubmittedRequest> {
  const data = await gql.ok<{ submitDeletionRequest: SubmittedRequest }>(
    'mutation ($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id status } }',
    { input: { lineage, idempotencyKey, subject: { datasetSubjectId }, legalBasis: 'GDPR Art. 17(1)(a)' } },
  );
  return data.submitDeletionRequest;
}

export interface RequestView {
  id: string;
  status: string;
  statusReason: string | null;
  subjectName: string | null;
  modelVersion: { number: number; status: string } | null;
  events: { type: string; reason: string | null; occurredAt: string; data: Record<string, unknown> }[];
}

export async function getRequest(gql: GqlClient, id: string): Promise<RequestView> {
  const data = await gql.ok<{ deletionRequest: RequestView }>(
    'query ($id: ID!) { deletionRequest(id: $id) { id status statusReason subjectName modelVersion { number status } events { type reason occurredAt data } } }',
    { id },
  );
  return data.deletionRequest;
}

const FINAL = new Set(['COMPLETED', 'FAILED', 'REJECTED', 'CANCELED', 'NEEDS_REVIEW']);

/** Polls until the request reaches a final status (or NEEDS_REVIEW) and returns it. */
export async function waitForFinal(gql: GqlClient, id: string, timeoutMs: number, isDone: (r: RequestView) => boolean = (r) => FINAL.has(r.status)): Promise<RequestView> {
  const deadline = Date.now() + timeoutMs;
  let last: RequestView | null = null;
  while (Date.now() < deadline) {
    try {
      last = await getRequest(gql, id);
      if (isDone(last)) return last;
    } catch {
      // The API may be down on purpose (fault tests); keep polling.
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.fail(`request ${id} did not finish within ${timeoutMs} ms; last seen ${JSON.stringify(last && { status: last.status, reason: last.statusReason })}`);
}

export interface LineageView {
  championVersion: number | null;
  versions: { number: number; status: string; parentNumber: number | null; requestIds: string[] }[];
}

export async function getLineage(gql: GqlClient, name: string): Promise<LineageView> {
  const data = await gql.ok<{ modelLineage: LineageView }>('query ($name: String!) { modelLineage(name: $name) { championVersion versions { number status parentNumber requestIds } } }', { name });
  return data.modelLineage;
}

export interface AuditView {
  decision: string;
  versionNumber: number;
  forget: { text: number | null; multimodal: number | null };
  retain: { text: number | null; multimodal: number | null };
  cumulativeForget: { text: number | null; multimodal: number | null };
  general: number | null;
  reasons: string[];
  baseline: { forget: { text: number | null; multimodal: number | null }; retain: { text: number | null; multimodal: number | null }; cumulativeForget: { text: number | null; multimodal: number | null }; general: number | null } | null;
}

export async function getAudit(gql: GqlClient, requestId: string): Promise<AuditView> {
  const m = '{ text multimodal }';
  const data = await gql.ok<{ auditReport: AuditView }>(
    `query ($id: ID!) { auditReport(requestId: $id) { decision versionNumber forget ${m} retain ${m} cumulativeForget ${m} general reasons baseline { forget ${m} retain ${m} cumulativeForget ${m} general } } }`,
    { id: requestId },
  );
  assert.ok(data.auditReport, `no audit report for request ${requestId}`);
  return data.auditReport;
}

export interface ActivityAttempt {
  type: string;
  attempt: number;
}

/** Every activity start in the lineage workflow's current run, with its attempt number (from the Temporal history). */
export async function activityStarts(temporalAddress: string, lineage: string): Promise<ActivityAttempt[]> {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const history = await new Client({ connection }).workflow.getHandle(`lineage:${lineage}`).fetchHistory();
    const types = new Map<string, string>();
    const starts: ActivityAttempt[] = [];
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) types.set(String(event.eventId), scheduled.activityType?.name ?? '?');
      const started = event.activityTaskStartedEventAttributes;
      if (started) starts.push({ type: types.get(String(started.scheduledEventId)) ?? '?', attempt: started.attempt ?? 1 });
    }
    return starts;
  } finally {
    await connection.close();
  }
}

/** The lineage workflow's queue order: every request id it accepted, first come first. */
export async function acceptedOrder(temporalAddress: string, lineage: string): Promise<string[]> {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const state = await new Client({ connection }).workflow.getHandle(`lineage:${lineage}`).query<{ known: string[] }>('state');
    return state.known;
  } finally {
    await connection.close();
  }
}

export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>, pollMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // transient (a child is down on purpose)
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  assert.fail(`${what}: not within ${timeoutMs} ms`);
}

/**
 * Fictional subjects the tiny model knows best in both modalities (test/e2e/known_subjects.py),
 * so that forgetting them is visible. Cached per model build in the temp dir.
 */
export function knownSubjects(count: number): string[] {
  const tinyRoot = requiredEnv('LETHE_TINY_MODEL_ROOT');
  const weights = fs.statSync(path.join(tinyRoot, 'model', 'model.safetensors'));
  const key = crypto.createHash('sha256').update(`${path.resolve(tinyRoot)}:${weights.mtimeMs}:${weights.size}:${count}`).digest('hex').slice(0, 16);
  const cache = path.join(os.tmpdir(), `lethe-known-subjects-${key}.json`);
  if (!fs.existsSync(cache)) {
    const workerDir = path.join(ROOT, 'gpu-worker');
    const out = execFileSync(requiredEnv('LETHE_PYTHON'), [path.join(ROOT, 'test/e2e/known_subjects.py'), tinyRoot, String(count)], {
      cwd: workerDir,
      env: { ...process.env, PYTHONPATH: workerDir, HF_HUB_OFFLINE: '1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    fs.writeFileSync(cache, out);
  }
  const ranked = JSON.parse(fs.readFileSync(cache, 'utf8')) as { id: string; weaker: number }[];
  assert.ok(ranked.length === count && ranked[count - 1].weaker > 0.25, `the tiny model knows fewer than ${count} fictional subjects above chance: ${JSON.stringify(ranked)}`);
  return ranked.map((s) => s.id);
}

/** True while the lineage's `unlearn` activity runs and has heartbeated (the GPU worker is training). */
export async function unlearnHeartbeating(temporalAddress: string, lineage: string): Promise<boolean> {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const description = await new Client({ connection }).workflow.getHandle(`lineage:${lineage}`).describe();
    const pending = description.raw.pendingActivities ?? [];
    return pending.some((a) => a.activityType?.name === 'unlearn' && a.lastHeartbeatTime != null);
  } finally {
    await connection.close();
  }
}

/** The lineage workflow's current run, event by event (Temporal history): who ran what, and when. */
export async function lineageHistory(temporalAddress: string, lineage: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    return (await new Client({ connection }).workflow.getHandle(`lineage:${lineage}`).fetchHistory()).events ?? [];
  } finally {
    await connection.close();
  }
}

/** The pending activities of the lineage workflow, with the worker that last took each. */
export async function pendingActivities(temporalAddress: string, lineage: string): Promise<{ type: string; heartbeating: boolean; worker: string }[]> {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const description = await new Client({ connection }).workflow.getHandle(`lineage:${lineage}`).describe();
    return (description.raw.pendingActivities ?? []).map((a) => ({ type: a.activityType?.name ?? '?', heartbeating: a.lastHeartbeatTime != null, worker: a.lastWorkerIdentity ?? '' }));
  } finally {
    await connection.close();
  }
}
