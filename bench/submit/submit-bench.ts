// Submission benchmark: latency p50/p99 and throughput of submitDeletionRequest on loopback, and
// every submission (with duplicates) stored and queued exactly once, the event chain still valid.
//   npm run bench:submit [-- --total 1000 --duplicates 0.2 --warmup 200 --rate 200 | --concurrency 16 --queue temporal|recorded]
// --rate N offers N submissions a second on a fixed schedule whatever the answers (open loop; the
// latency of each is counted from its scheduled time, so a stall is not hidden by sending less);
// without it, --concurrency clients each send their next submission when the last one answers.
// The clients run in a worker thread: their JSON and HTTP work is not on the API's event loop.
// --queue temporal (default) runs the app as composed for production (OrchestrationModule on a
// Temporal dev server from LETHE_TEMPORAL_BIN); --queue recorded measures the API + Postgres path alone.
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { DynamicModule, Type } from '@nestjs/common';
import { startDevServer } from '../../src/temporal/dev-server';
import { startTestApp, writeDataset, writeModelDir } from '../../test/support/app';
import { GqlClient } from '../../test/support/gql';
import { RecordingQueue, recordingQueueModule } from '../../test/support/recording-queue';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** The production TypeScript worker (dist/src/worker.js); resolves once it polls its task queues. */
function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'src', 'worker.js')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('workers polling')) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the TypeScript worker exited with ${code} before polling:\n${output.slice(-2000)}`)));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Load {
  baseUrl: string;
  token: string;
  /** The idempotency key number of each submission, in sending order. */
  plan: number[];
  /** Submissions offered per second; 0: closed loop with `concurrency` clients. */
  rate: number;
  concurrency: number;
  /** Submissions sent first, each with its own key, and not timed: the API's first calls compile and fill caches. */
  warmup: number;
}

interface LoadResult {
  latencies: number[];
  /** [key number, request id] of every answer. */
  answers: Array<[number, string]>;
  errors: string[];
  seconds: number;
}

const MUTATION = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id status } }`;

/** Runs in the worker thread: sends the plan and times each answer. */
async function generateLoad({ baseUrl, token, plan, rate, concurrency, warmup }: Load): Promise<LoadResult> {
  const client = new GqlClient(baseUrl, token);
  const result: LoadResult = { latencies: [], answers: [], errors: [], seconds: 0 };
  const send = (key: string, k: number) =>
    client.ok(MUTATION, { input: { lineage: 'bench', idempotencyKey: key, legalBasis: 'GDPR Art. 17', subject: { datasetSubjectId: `s${k % 50}` } } });
  for (let i = 0; i < warmup; i += concurrency) {
    await Promise.all(Array.from({ length: Math.min(concurrency, warmup - i) }, (_, j) => send(`warmup-${i + j}`, i + j)));
  }
  const submit = async (k: number, since: number) => {
    try {
      const { submitDeletionRequest: r } = await send(`bench-${k}`, k);
      result.latencies.push(performance.now() - since);
      result.answers.push([k, r.id]);
    } catch (err) {
      result.errors.push((err as Error).message);
    }
  };
  parentPort?.postMessage({ timing: true });
  const started = performance.now();
  if (rate > 0) {
    const sent: Array<Promise<void>> = [];
    for (let i = 0; i < plan.length; i++) {
      const scheduled = started + (i * 1000) / rate;
      const wait = scheduled - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      sent.push(submit(plan[i], scheduled));
    }
    await Promise.all(sent);
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < plan.length) {
          const k = plan[next++];
          await submit(k, performance.now());
        }
      }),
    );
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/**
 * Runs the load in a worker thread. `apiCpuMs`: CPU time of this (the API's) thread while the timed
 * part ran, the cost of the submissions that contention on a shared machine does not change.
 */
function runLoad(load: Load): Promise<LoadResult & { apiCpuMs: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: load });
    let cpuAtStart = process.threadCpuUsage();
    worker.on('message', (message: LoadResult | { timing: true }) => {
      if ('timing' in message) {
        cpuAtStart = process.threadCpuUsage();
        return;
      }
      const used = process.threadCpuUsage(cpuAtStart);
      resolve({ ...message, apiCpuMs: (used.user + used.system) / 1000 });
    });
    worker.once('error', reject);
  });
}

async function main(): Promise<void> {
  const total = Number(arg('total', '1000'));
  const duplicateShare = Number(arg('duplicates', '0.2'));
  const concurrency = Number(arg('concurrency', '16'));
  const rate = Number(arg('rate', '0'));
  const warmup = Number(arg('warmup', '200'));
  const queueKind = arg('queue', 'temporal');
  const recorder = new RecordingQueue();
  let orchestration: Type | DynamicModule | undefined;
  let env: Record<string, string> = {};
  let stopTemporal = async () => {};
  if (queueKind === 'recorded') orchestration = recordingQueueModule(recorder);
  else {
    const binary = process.env.LETHE_TEMPORAL_BIN;
    if (!binary) throw new Error('LETHE_TEMPORAL_BIN: not set (run through `npm run bench:submit`, which bootstraps it)');
    const server = await startDevServer({ binary });
    env = { TEMPORAL_ADDRESS: server.address };
    stopTemporal = () => server.stop();
  }
  const t = await startTestApp({ orchestration, env });
  // Updates are accepted by the lineage workflow, so the real TypeScript worker must run beside the API.
  const worker = queueKind === 'recorded' ? null : await startWorkerProcess({ ...env, DATABASE_URL: t.postgres.url, LETHE_DATA_DIR: t.config.dataDir });
  try {
    const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), Array.from({ length: 50 }, (_, i) => ({ id: `s${i}`, name: `Person ${i}`, knowledge: 'FINETUNED' as const })));
    await t.operator.ok(`mutation($i: CreateModelLineageInput!) { createModelLineage(input: $i) { name } }`, {
      i: { name: 'bench', baseModelPath: writeModelDir(path.join(t.postgres.dir, 'model')), datasetPath: dataset },
    });
    const token = (await t.operator.ok(`mutation { createApiToken(role: REQUESTER, owner: "bench") { token } }`)).createApiToken.token;
    const unique = Math.round(total * (1 - duplicateShare));
    // Submission i reuses the key (and payload) of an earlier one for the duplicate share.
    const plan = Array.from({ length: total }, (_, i) => (i < unique ? i : Math.floor(((i - unique) * 7919) % unique)));
    const loadAverage = +os.loadavg()[0].toFixed(2);
    const load = await runLoad({ baseUrl: t.baseUrl, token, plan, rate, concurrency, warmup });
    const stored = unique + warmup;
    const idsByKey = new Map<number, Set<string>>();
    for (const [k, id] of load.answers) (idsByKey.get(k) ?? idsByKey.set(k, new Set()).get(k)!).add(id);
    const latencies = load.latencies;
    const seconds = load.seconds;
    latencies.sort((a, b) => a - b);
    // A submission answers once stored; the outbox queues it right after: wait for the last one.
    const countRows = async () => (await t.dataSource.query(`SELECT count(*)::int AS requests, count(*) FILTER (WHERE status = 'RECEIVED')::int AS received FROM deletion_requests`))[0];
    const answered = performance.now();
    let rows = await countRows();
    while (rows.received > 0 && performance.now() - answered < 60_000) {
      await new Promise((r) => setTimeout(r, 50));
      rows = await countRows();
    }
    const { requests, received } = rows;
    const allQueuedAfterMs = +(performance.now() - answered).toFixed(0);
    const [{ queuedEvents }] = await t.dataSource.query(`SELECT count(*)::int AS "queuedEvents" FROM event_log WHERE type = 'request.status_changed' AND data->>'to' = 'QUEUED'`);
    const oneIdPerKey = [...idsByKey.values()].every((ids) => ids.size === 1);
    const enqueuedOnce = queueKind === 'recorded' ? recorder.enqueued.length === unique + warmup : null;
    const chain = (await t.operator.ok(`{ verifyEventChain { valid checkedEvents } }`)).verifyEventChain;
    const report = {
      queue: queueKind,
      cpus: os.cpus().length,
      submissions: total,
      uniqueKeys: unique,
      warmup,
      ...(rate > 0 ? { offeredPerSecond: rate } : { concurrency }),
      achievedPerSecond: +(latencies.length / seconds).toFixed(1),
      p50Ms: +percentile(latencies, 50).toFixed(2),
      p99Ms: +percentile(latencies, 99).toFixed(2),
      maxMs: +latencies[latencies.length - 1].toFixed(2),
      apiCpuMsPerSubmission: +(load.apiCpuMs / total).toFixed(2),
      loadAverageAtStart: loadAverage,
      errors: load.errors.length,
      allQueuedAfterMs,
      requestsStored: requests,
      leftReceived: received,
      queuedTransitions: queuedEvents,
      oneRequestPerKey: oneIdPerKey,
      chainValid: chain.valid,
      ...(enqueuedOnce === null ? {} : { enqueueCallsEqualUniqueKeys: enqueuedOnce }),
    };
    const exactlyOnce = load.errors.length === 0 && requests === stored && received === 0 && queuedEvents === stored && oneIdPerKey && chain.valid && enqueuedOnce !== false;
    console.log('| offered/s | achieved/s | p50 ms | p99 ms | max ms | API CPU ms/submission | stored | queued | exactly once |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    console.log(
      `| ${rate > 0 ? rate : `closed, ${concurrency} clients`} | ${report.achievedPerSecond} | ${report.p50Ms} | ${report.p99Ms} | ${report.maxMs} | ${report.apiCpuMsPerSubmission} | ${requests}/${stored} | ${queuedEvents}/${stored} | ${exactlyOnce ? 'yes' : 'NO'} |`,
    );
    console.log(JSON.stringify({ ...report, exactlyOnce }));
    if (load.errors.length) console.error(`errors (first 3): ${load.errors.slice(0, 3).join('; ')}`);
    if (!exactlyOnce) {
      console.error('FAILED: submissions were not stored and queued exactly once each');
      process.exitCode = 1;
    }
  } finally {
    if (worker) {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.kill('SIGTERM');
      const timer = setTimeout(() => worker.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await t.stop();
    await stopTemporal();
  }
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  generateLoad(workerData as Load).then((result) => parentPort!.postMessage(result));
}
