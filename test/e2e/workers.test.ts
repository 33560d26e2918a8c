// More than one worker of each kind: two Python GPU workers and two TypeScript workers against one
// Temporal and one Postgres. Steps of different lineages run at the same time (one on each GPU
// worker), the steps of one lineage stay one after another, and SIGKILL of one worker of each kind
// (kept dead: the supervisor does not restart them) moves its work to the other: every request still
// completes exactly once. The GPU side takes seconds on the tiny model; the wall time (about 7 minutes on two
// shared, busy cores) is mostly the three CPU audits, which the surviving TypeScript worker runs one after another.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { temporal } from '@temporalio/proto';
import {
  ALWAYS_PROMOTE_GATE_POLICY,
  createLineage,
  getLineage,
  lineageHistory,
  pendingActivities,
  startE2eStack,
  STACK_START_HOOK_TIMEOUT_MS,
  submit,
  waitForFinal,
  waitUntil,
  type E2eStack,
  type RequestView,
  type StackChild,
  type SubmittedRequest,
} from './harness';

const LINEAGES = ['workers-a', 'workers-b'] as const;
// Two steps in lineage a (one after another), one in b (beside a's first). Each step ends in a CPU audit, and after
// the kill one TypeScript worker runs them all in turn: a fourth request would add a minute and show nothing new.
const SUBJECTS: Record<(typeof LINEAGES)[number], string[]> = { 'workers-a': ['p030', 'p031'], 'workers-b': ['p032'] };
// Short steps: this test is about who runs what and when, not about forgetting.
const EXPERIMENTAL = { maxSteps: 30 };
// Per request, waited for in turn; the first took about 5 minutes on two busy cores.
const FINISH_TIMEOUT_MS = 10 * 60_000;

const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']): number => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
const at = (iso: string): number => new Date(iso).getTime();

/** The child a Temporal worker identity (`pid@host`, both SDKs' default) belongs to. */
function childOf(children: Record<string, StackChild>, names: string[], identity: string): string {
  const name = names.find((n) => identity.startsWith(`${children[n].proc?.pid}@`));
  assert.ok(name, `no child of ${names} is worker ${identity}`);
  return name;
}

/** From UNLEARNING to COMPLETED, in the request's event log. */
function stepInterval(request: RequestView): [number, number] {
  const changes = request.events.filter((e) => e.type === 'request.status_changed');
  const begun = changes.find((e) => e.data.to === 'UNLEARNING');
  const done = changes.filter((e) => e.data.to === 'COMPLETED');
  assert.ok(begun, `request ${request.id} never began unlearning`);
  assert.equal(done.length, 1, `request ${request.id} COMPLETED exactly once (${done.length} times)`);
  return [at(begun.occurredAt), at(done[0].occurredAt)];
}

const overlap = (a: [number, number], b: [number, number]): boolean => a[0] < b[1] && b[0] < a[1];

describe('two GPU workers and two TypeScript workers', { timeout: 15 * 60_000 }, () => {
  let e2e: E2eStack;

  before(async () => {
    // A killed GPU worker stops heartbeating; Temporal retries its activity after this long.
    e2e = await startE2eStack('workers', { LETHE_GPU_HEARTBEAT_SECONDS: '10' }, { workers: { ts: 2, gpu: 2 } });
    for (const name of LINEAGES) await createLineage(e2e.gql, name, { gatePolicy: ALWAYS_PROMOTE_GATE_POLICY, experimental: EXPERIMENTAL });
  }, { timeout: STACK_START_HOOK_TIMEOUT_MS });
  after(async () => {
    await e2e?.stop();
  });

  it('runs the lineages in parallel, each in order, and survives SIGKILL of one worker of each kind', async () => {
    const { gql, stack } = e2e;
    const { children } = stack;
    const started = Date.now();
    const requests = new Map<string, SubmittedRequest[]>(LINEAGES.map((l) => [l, []]));
    for (const i of [0, 1]) for (const l of LINEAGES) if (SUBJECTS[l][i]) requests.get(l)!.push(await submit(gql, l, `${l}-${i}`, SUBJECTS[l][i]));

    // (a) Both lineages train at the same moment, on two different GPU workers.
    let training: { type: string; heartbeating: boolean; worker: string }[] = [];
    await waitUntil('both lineages training at once', 180_000, async () => {
      training = (await Promise.all(LINEAGES.map((l) => pendingActivities(stack.temporalAddress, l)))).map((p) => p.find((a) => a.type === 'unlearn' && a.heartbeating)!);
      return training.every(Boolean);
    }, 100);
    const gpuOf = training.map((a) => childOf(children, ['gpu', 'gpu2'], a.worker));
    assert.notEqual(gpuOf[0], gpuOf[1], `the two lineages train on two GPU workers (${training.map((a) => a.worker)})`);

    // (c) Kill, mid-step, the GPU worker training lineage a and the TypeScript worker that last ran its workflow (it
    // holds it in its cache). Both lineages are training: no audit is running, whose retry would wait out its
    // 2-minute heartbeat timeout.
    const workflowTasksOfA = (await lineageHistory(stack.temporalAddress, 'workers-a')).filter((e) => e.workflowTaskStartedEventAttributes);
    const killedTs = childOf(children, ['worker', 'worker2'], workflowTasksOfA.at(-1)!.workflowTaskStartedEventAttributes!.identity!);
    const killedGpu = gpuOf[0];
    const survivors = { ts: killedTs === 'worker' ? 'worker2' : 'worker', gpu: killedGpu === 'gpu' ? 'gpu2' : 'gpu' };
    const survivorIds = { ts: `${children[survivors.ts].proc?.pid}@`, gpu: `${children[survivors.gpu].proc?.pid}@` };
    const killedAt = Date.now();
    children[killedGpu].kill('SIGKILL', { restart: false });
    children[killedTs].kill('SIGKILL', { restart: false });

    const finished = new Map<string, RequestView[]>();
    for (const l of LINEAGES) {
      const done: RequestView[] = [];
      for (const r of requests.get(l)!) done.push(await waitForFinal(gql, r.id, FINISH_TIMEOUT_MS));
      assert.deepEqual(done.map((r) => r.status), done.map(() => 'COMPLETED'), `${l}: ${done.map((r) => r.statusReason).join(' | ')}`);
      finished.set(l, done);
    }
    const wall = (Date.now() - started) / 1000;
    assert.ok(!children[killedGpu].alive() && !children[killedTs].alive(), 'the killed workers stayed dead');

    const intervals = new Map(LINEAGES.map((l) => [l, finished.get(l)!.map(stepInterval)]));
    // (a) In the event log too: a step of lineage a overlapped a step of lineage b.
    const [a, b] = LINEAGES.map((l) => intervals.get(l)!);
    assert.ok(a.some((x) => b.some((y) => overlap(x, y))), `steps of the two lineages overlapped: ${JSON.stringify({ a, b })}`);

    for (const l of LINEAGES) {
      // (b) The steps of one lineage never overlapped: each began after the one before it completed.
      const steps = intervals.get(l)!;
      for (let i = 1; i < steps.length; i++) assert.ok(steps[i - 1][1] <= steps[i][0], `${l}: steps one after another: ${JSON.stringify(steps)}`);

      // (c) Each request promoted once, in its own version, in order.
      const lineage = await getLineage(gql, l);
      const ids = requests.get(l)!.map((r) => r.id);
      const numbers = ids.map((_, i) => i + 1);
      assert.deepEqual(lineage.versions.map((v) => [v.number, v.status]), [[0, 'SUPERSEDED'], ...numbers.map((n) => [n, n === ids.length ? 'PROMOTED' : 'SUPERSEDED'])]);
      assert.deepEqual(lineage.versions.map((v) => v.requestIds), [[], ...ids.map((id) => [id])]);
      assert.deepEqual(finished.get(l)!.map((r) => r.modelVersion?.number), numbers);

      // Temporal's history: one unlearn per version, retried only where its GPU worker was killed, and that retry ran
      // on the surviving GPU worker; after the kill, only the surviving workers ran this lineage's work.
      const history = await lineageHistory(stack.temporalAddress, l);
      const typeOf = new Map(history.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType?.name]));
      const activities = history.filter((e) => e.activityTaskStartedEventAttributes).map((e) => ({ type: typeOf.get(String(e.activityTaskStartedEventAttributes!.scheduledEventId)), attempt: e.activityTaskStartedEventAttributes!.attempt ?? 1, worker: e.activityTaskStartedEventAttributes!.identity ?? '', at: ms(e.eventTime) }));
      const unlearns = activities.filter((x) => x.type === 'unlearn');
      assert.deepEqual(unlearns.map((x) => x.attempt), l === 'workers-a' ? [2, 1] : [1], `${l}: unlearn attempts`);
      // The lineage exports its base model to ONNX once, for its audits.
      assert.deepEqual(activities.filter((x) => x.type === 'export_onnx').map((x) => x.attempt), [1], `${l}: one ONNX export`);
      if (l === 'workers-a') assert.ok(unlearns[0].worker.startsWith(survivorIds.gpu), `the killed unlearn was retried on ${survivors.gpu} (${unlearns[0].worker})`);
      const gpuAfterKill = activities.filter((x) => (x.type === 'unlearn' || x.type === 'export_onnx') && x.at > killedAt);
      assert.ok(gpuAfterKill.length > 0 && gpuAfterKill.every((x) => x.worker.startsWith(survivorIds.gpu)), `${l}: GPU work after the kill on ${survivors.gpu}: ${JSON.stringify(gpuAfterKill)}`);
      const tsAfterKill = [
        ...history.filter((e) => e.workflowTaskStartedEventAttributes && ms(e.eventTime) > killedAt).map((e) => e.workflowTaskStartedEventAttributes!.identity ?? ''),
        ...activities.filter((x) => x.type !== 'unlearn' && x.type !== 'export_onnx' && x.at > killedAt).map((x) => x.worker),
      ];
      assert.ok(tsAfterKill.length > 0 && tsAfterKill.every((w) => w.startsWith(survivorIds.ts)), `${l}: workflow tasks and audits after the kill on ${survivors.ts}: ${tsAfterKill}`);
    }
    process.stderr.write(`workers: killed ${killedGpu} and ${killedTs} ${((killedAt - started) / 1000).toFixed(0)} s in; ${LINEAGES.map((l) => requests.get(l)!.length).join(' + ')} requests completed ${wall.toFixed(0)} s after submission\n`);
  });
});
