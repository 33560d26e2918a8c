// Submission benchmark: latency p50/p99 and throughput of submitDeletionRequest on loopback, and
// 1,000 submissions (with duplicates) queued exactly once each.
//   npm run bench:submit [-- --total 1000 --duplicates 0.2 --concurrency 16 --queue temporal|recorded]
// --queue temporal (default) runs the app as composed for production (OrchestrationModule on a
// Temporal dev server from LETHE_TEMPORAL_BIN); --queue recorded measures the API + Postgres path alone.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { DynamicModule, Type } from '@nestjs/common';
import { startDevServer } from '../../src/temporal/dev-server';
import { startTestApp, writeDataset, writeModelDir } from '../../test/support/app';
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

async function main(): Promise<void> {
  const total = Number(arg('total', '1000'));
  const duplicateShare = Number(arg('duplicates', '0.2'));
  const concurrency = Number(arg('concurrency', '16'));
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
    const client = t.operator.withToken(token);
    const unique = Math.round(total * (1 - duplicateShare));
    // Submission i reuses the key (and payload) of an earlier one for the duplicate share.
    const plan = Array.from({ length: total }, (_, i) => (i < unique ? i : Math.floor(((i - unique) * 7919) % unique)));
    const mutation = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id status } }`;
    const latencies: number[] = [];
    const idsByKey = new Map<number, Set<string>>();
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < plan.length) {
          const k = plan[next++];
          const t0 = performance.now();
          const { submitDeletionRequest: r } = await client.ok(mutation, {
            input: { lineage: 'bench', idempotencyKey: `bench-${k}`, legalBasis: 'GDPR Art. 17', subject: { datasetSubjectId: `s${k % 50}` } },
          });
          latencies.push(performance.now() - t0);
          (idsByKey.get(k) ?? idsByKey.set(k, new Set()).get(k)!).add(r.id);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
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
    const enqueuedOnce = queueKind === 'recorded' ? recorder.enqueued.length === unique : null;
    const report = {
      queue: queueKind,
      submissions: total,
      uniqueKeys: unique,
      concurrency,
      p50Ms: +percentile(latencies, 50).toFixed(2),
      p99Ms: +percentile(latencies, 99).toFixed(2),
      throughputPerSecond: +(total / seconds).toFixed(1),
      allQueuedAfterMs,
      requestsStored: requests,
      leftReceived: received,
      queuedTransitions: queuedEvents,
      oneRequestPerKey: oneIdPerKey,
      ...(enqueuedOnce === null ? {} : { enqueueCallsEqualUniqueKeys: enqueuedOnce }),
    };
    console.log(JSON.stringify(report, null, 2));
    const exactlyOnce = requests === unique && received === 0 && queuedEvents === unique && oneIdPerKey && enqueuedOnce !== false;
    if (!exactlyOnce) {
      console.error('FAILED: submissions were not queued exactly once each');
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

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
