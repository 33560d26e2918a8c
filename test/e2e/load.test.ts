// 100 concurrent submissions over 3 lineages, duplicates among them (same idempotency key and
// payload, sent concurrently with the original): every distinct request completes exactly once,
// in the order its lineage accepted it, none is lost. The lineages batch what arrives within
// their window into one unlearning step, which bounds the run time on the tiny model.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { acceptedOrder, ALWAYS_PROMOTE_GATE_POLICY, createLineage, getLineage, startE2eStack, STACK_START_HOOK_TIMEOUT_MS, submit, waitUntil, type E2eStack } from './harness';

const LINEAGES = ['load-a', 'load-b', 'load-c'];
const TOTAL = 100;
const DUPLICATES = 16;
const BATCHING_WINDOW_SECONDS = 20;
// This test is about ordering and exactly-once, not forgetting. Each lineage batches its 28 people into one
// version, and 5 epochs of their examples (~1,400 steps) took 650-730 s, past the test's time bound.
const EXPERIMENTAL = { maxSteps: 20 };

interface Submission {
  lineage: string;
  key: string;
  subject: string;
}

describe('100 concurrent submissions over 3 lineages', { timeout: 20 * 60_000 }, () => {
  let e2e: E2eStack;

  before(async () => {
    e2e = await startE2eStack('load');
    for (const name of LINEAGES) await createLineage(e2e.gql, name, { batchingWindowSeconds: BATCHING_WINDOW_SECONDS, gatePolicy: ALWAYS_PROMOTE_GATE_POLICY, experimental: EXPERIMENTAL });
  }, { timeout: STACK_START_HOOK_TIMEOUT_MS });
  after(async () => {
    await e2e?.stop();
  });

  it('completes every distinct request exactly once, in each lineage\'s accepted order', async () => {
    const { gql, stack } = e2e;
    const distinct: Submission[] = Array.from({ length: TOTAL - DUPLICATES }, (_, i) => ({
      lineage: LINEAGES[i % LINEAGES.length],
      key: `load-${i}`,
      subject: `p${String(20 + i).padStart(3, '0')}`,
    }));
    // Every 5th distinct submission is sent twice, concurrently, with the same key and payload.
    const all = [...distinct, ...distinct.filter((_, i) => i % 5 === 0).slice(0, DUPLICATES)];
    assert.equal(all.length, TOTAL);
    const started = Date.now();
    const results = await Promise.all(all.map((s) => submit(gql, s.lineage, s.key, s.subject)));
    const submitSeconds = (Date.now() - started) / 1000;

    const idByKey = new Map<string, string>();
    all.forEach((s, i) => {
      const seen = idByKey.get(s.key);
      if (seen) assert.equal(results[i].id, seen, `duplicate ${s.key} returned the original request`);
      else idByKey.set(s.key, results[i].id);
    });
    assert.equal(new Set(results.map((r) => r.id)).size, distinct.length, 'one request per distinct key');

    for (const name of LINEAGES) {
      const expected = distinct.filter((s) => s.lineage === name).map((s) => idByKey.get(s.key)!);
      await waitUntil(`every request of ${name} COMPLETED`, 12 * 60_000, async () => {
        const page = await gql.ok('query ($lineage: String!) { deletionRequests(filter: {lineage: $lineage, status: COMPLETED}, first: 100) { totalCount } }', { lineage: name });
        return page.deletionRequests.totalCount === expected.length;
      });
      const lineage = await getLineage(gql, name);
      const promoted = lineage.versions.filter((v) => v.number > 0 && (v.status === 'PROMOTED' || v.status === 'SUPERSEDED'));
      assert.deepEqual(lineage.versions.filter((v) => v.number > 0).map((v) => v.status).filter((s) => s !== 'PROMOTED' && s !== 'SUPERSEDED'), [], `${name}: no rejected versions`);
      const carried = promoted.flatMap((v) => v.requestIds);
      // Exactly once: no request in two versions, none missing.
      assert.equal(new Set(carried).size, carried.length, `${name}: a request carried out twice`);
      assert.deepEqual(new Set(carried), new Set(expected), `${name}: carried out = submitted`);
      // In order: versions (oldest first) carry the requests in the order the lineage accepted them.
      assert.deepEqual(carried, await acceptedOrder(stack.temporalAddress, name), `${name}: carried in accepted order`);
      process.stderr.write(`${name}: ${expected.length} requests in ${promoted.length} version(s), ${((Date.now() - started) / 1000).toFixed(0)} s after the burst (submitted in ${submitSeconds.toFixed(1)} s)\n`);
    }
  });
});
