// Faults on the whole stack (scripts/lib/stack.cjs restarts killed children, as `npm run up` does):
// a GPU worker killed in the middle of `unlearn`, the API and the TypeScript worker killed
// mid-flight, and a Postgres restart while requests are queued. Every request must finish, once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { activityStarts, ALWAYS_PROMOTE_GATE_POLICY, createLineage, unlearnHeartbeating, getLineage, getRequest, startE2eStack, STACK_START_HOOK_TIMEOUT_MS, submit, waitForFinal, waitUntil, type E2eStack, type RequestView, type SubmittedRequest } from './harness';

const FINISH_TIMEOUT_MS = 8 * 60_000;

describe('faults on the running stack', { timeout: 30 * 60_000 }, () => {
  let e2e: E2eStack;

  before(async () => {
    // A killed GPU worker stops heartbeating; Temporal retries its activity after this long.
    e2e = await startE2eStack('faults', { LETHE_GPU_HEARTBEAT_SECONDS: '10' });
  }, { timeout: STACK_START_HOOK_TIMEOUT_MS });
  after(async () => {
    await e2e?.stop();
  });

  it('SIGKILL of the Python worker in the middle of unlearn: the activity is retried and exactly one new version results', async () => {
    const { gql, stack } = e2e;
    await createLineage(gql, 'gpu-kill', { gatePolicy: ALWAYS_PROMOTE_GATE_POLICY });
    const request = await submit(gql, 'gpu-kill', 'gpu-kill-1', 'p010');
    // Kill once the worker trains: the activity is running and has reported a training step.
    await waitUntil('unlearn heartbeating', 180_000, () => unlearnHeartbeating(stack.temporalAddress, 'gpu-kill'), 100);
    const restartsBefore = stack.children.gpu.restarts;
    stack.children.gpu.kill('SIGKILL');

    const done = await waitForFinal(gql, request.id, FINISH_TIMEOUT_MS);
    assert.equal(done.status, 'COMPLETED', `request: ${done.statusReason}`);
    assert.ok(stack.children.gpu.restarts > restartsBefore, 'the supervisor restarted the GPU worker');
    const unlearnAttempts = (await activityStarts(stack.temporalAddress, 'gpu-kill')).filter((a) => a.type === 'unlearn').map((a) => a.attempt);
    assert.ok(Math.max(...unlearnAttempts) >= 2, `unlearn was retried after the kill (attempts ${unlearnAttempts})`);
    const lineage = await getLineage(gql, 'gpu-kill');
    assert.deepEqual(lineage.versions.map((v) => [v.number, v.status]), [[0, 'SUPERSEDED'], [1, 'PROMOTED']]);
    assert.deepEqual(lineage.versions[1].requestIds, [request.id]);
  });

  it('SIGKILL of the API and the TypeScript worker mid-flight: after their restart every request finishes, each once', async () => {
    const { gql, stack } = e2e;
    await createLineage(gql, 'control-kill', { gatePolicy: ALWAYS_PROMOTE_GATE_POLICY });
    const requests: SubmittedRequest[] = [];
    for (const [i, subject] of ['p011', 'p012', 'p013'].entries()) requests.push(await submit(gql, 'control-kill', `control-kill-${i}`, subject));
    await waitUntil('first request UNLEARNING', 120_000, async () => (await getRequest(gql, requests[0].id)).status === 'UNLEARNING');
    stack.children.api.kill('SIGKILL');
    stack.children.worker.kill('SIGKILL');
    await waitUntil('API back', 60_000, async () => (await fetch(`${stack.baseUrl}/healthz`)).ok);

    const finished: RequestView[] = [];
    for (const request of requests) finished.push(await waitForFinal(gql, request.id, FINISH_TIMEOUT_MS));
    assert.deepEqual(finished.map((r) => r.status), ['COMPLETED', 'COMPLETED', 'COMPLETED'], finished.map((r) => r.statusReason).join(' | '));
    assert.deepEqual(finished.map((r) => r.modelVersion?.number), [1, 2, 3]);
    const lineage = await getLineage(gql, 'control-kill');
    assert.deepEqual(lineage.versions.map((v) => v.requestIds), [[], [requests[0].id], [requests[1].id], [requests[2].id]]);
    assert.equal(lineage.championVersion, 3);
  });

  it('a Postgres restart while requests are queued heals without operator action', async () => {
    const { gql, stack } = e2e;
    assert.ok(stack.postgres, 'the stack runs the embedded Postgres');
    await createLineage(gql, 'pg-restart', { gatePolicy: ALWAYS_PROMOTE_GATE_POLICY });
    const requests: SubmittedRequest[] = [];
    for (const [i, subject] of ['p014', 'p015'].entries()) requests.push(await submit(gql, 'pg-restart', `pg-restart-${i}`, subject));
    await stack.postgres.restart(5000);

    const finished: RequestView[] = [];
    for (const request of requests) finished.push(await waitForFinal(gql, request.id, FINISH_TIMEOUT_MS));
    assert.deepEqual(finished.map((r) => r.status), ['COMPLETED', 'COMPLETED'], finished.map((r) => r.statusReason).join(' | '));
    assert.deepEqual(finished.map((r) => r.modelVersion?.number), [1, 2]);
    const chain = await gql.ok('{ verifyEventChain { valid problem } }');
    assert.equal(chain.verifyEventChain.valid, true, chain.verifyEventChain.problem);
  });
});
