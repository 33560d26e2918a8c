// `npm run bench:e2e [-- --requests 4 --people 1 --strategy SEQUENTIAL --gate-policy '<json>' --hyper '<json>' --reforget 0 --reforget-above 0.2 --first 1]`: time from submission
// to promotion on the tiny LLaVA on CPU, per request and per stage, and what each request's audit measured, on the whole stack (scripts/lib/stack.cjs) in a
// throwaway data dir. Stages come from the lineage workflow's Temporal history (activity
// scheduled/completed times), so they measure the product, not this script:
//   queue wait  submission -> the step's beginRequest is scheduled
//   unlearn     the GPU `unlearn` activity (LoRA training + adapter write), over attempts and re-forget passes
//   export/load `export_onnx` (first request of a lineage only; later ones reuse the export)
//   audit       the `audit` activity (adapter load into onnxruntime-node + PULSE scoring + gate)
//   gate        recordAudit (gate decision + audit rows + events)
//   promote     promoteCandidate (champion moves, requests COMPLETED, retention)
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const b = require('../../scripts/lib/bootstrap.cjs');
const { startStack, stopOnSignals } = require('../../scripts/lib/stack.cjs');
const { graphql } = require('../../scripts/lib/first-start.cjs');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const TERMINAL = ['COMPLETED', 'FAILED', 'REJECTED', 'NEEDS_REVIEW'];
const STAGES = ['queue wait', 'unlearn', 'export/load', 'audit', 'gate', 'promote'];
const ACTIVITY_STAGE = { unlearn: 'unlearn', export_onnx: 'export/load', audit: 'audit', recordAudit: 'gate', promoteCandidate: 'promote' };


/** --hyper takes supported hyper-parameters and research knobs alike; the API takes the knobs under `experimental`. */
function splitHyper(given) {
  const knobs = ['maxSteps', 'ascentObjective', 'klReference'];
  const pick = (research) => Object.fromEntries(Object.entries(given).filter(([k]) => knobs.includes(k) === research));
  return { hyperParameters: pick(false), experimental: pick(true) };
}
async function gql(stack, token, query, variables) {
  const body = await graphql(stack.baseUrl, token, query, variables);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Per step (in order): the activities' [scheduled, completed] times, keyed by activity type. */
async function activitySteps(temporalAddress, lineage) {
  const { Connection, Client } = require('@temporalio/client');
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = new Client({ connection });
    // The lineage workflow continues as new when its history grows, so a step's events can be in any of its runs.
    const runs = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = "lineage:${lineage}"` })) runs.push(run);
    runs.sort((x, y) => x.startTime - y.startTime);
    const events = [];
    for (const run of runs) events.push(...(await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()).events.map((e) => ({ ...e, run: run.runId })));
    const ms = (t) => Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
    const scheduled = new Map();
    const steps = [];
    for (const event of events) {
      const s = event.activityTaskScheduledEventAttributes;
      if (s) {
        const type = s.activityType.name;
        if (type === 'beginRequest') steps.push({ begin: ms(event.eventTime), spans: {} });
        scheduled.set(`${event.run}/${event.eventId}`, { type, at: ms(event.eventTime), step: steps[steps.length - 1] });
      }
      const c = event.activityTaskCompletedEventAttributes;
      if (c) {
        const { type, at, step } = scheduled.get(`${event.run}/${c.scheduledEventId}`);
        if (step && ACTIVITY_STAGE[type]) (step.spans[ACTIVITY_STAGE[type]] ??= []).push(ms(event.eventTime) - at);
      }
    }
    return steps;
  } finally {
    await connection.close();
  }
}

function table(rows) {
  const header = ['request', 'unlearns', ...STAGES, 'total'];
  const cells = [header, ...rows.map((r) => [r.label, String(r.unlearns ?? ''), ...STAGES.map((s) => (r[s] === undefined ? '-' : (r[s] / 1000).toFixed(1))), (r.total / 1000).toFixed(1)])];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

const MODALITIES = 'multimodal text';
const AUDIT_FIELDS = `decision attempt jsonUrl forget { ${MODALITIES} } cumulativeForget { ${MODALITIES} } retain { ${MODALITIES} } general
  baseline { retain { ${MODALITIES} } general }
  forgetQuality { ${MODALITIES} } miaAuc { ${MODALITIES} } rankShares { ${MODALITIES} } belowChance { ${MODALITIES} } knowledgeBefore { ${MODALITIES} } noKnowledgeFound`;

/**
 * From the audit's JSON report: the highest accuracy of any one forgotten person per modality, the people above
 * 0.40 against what the forgotten people's mean rate would give (`aboveGoalAtMean`), and the runner-up share.
 */
async function forgottenSpread(jsonUrl, token, subjectIds) {
  const response = await fetch(jsonUrl, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET ${jsonUrl}: ${response.status}`);
  const audit = (await response.json()).audit;
  const metrics = audit?.metrics;
  const significance = audit?.gatePolicy?.forget?.significance ?? 0.05;
  const perSubject = metrics?.perSubject ?? {};
  const forgottenRunnerUp = metrics?.forgottenRunnerUp ?? { multimodal: null, text: null };
  // Everyone the lineage forgot so far against the never-seen people (the report's forgetting evidence).
  const everyone = metrics?.forgetting?.cumulativeForget ?? {};
  const byModality = (pick) => ({ multimodal: everyone.multimodal ? pick(everyone.multimodal) : null, text: everyone.text ? pick(everyone.text) : null });
  const cumulative = {
    cumulativeForgetQuality: byModality((e) => e.forgetQuality?.pValue ?? null),
    cumulativeMiaAuc: byModality((e) => e.miaAuc?.auc ?? null),
    cumulativeRankShares: byModality((e) => e.rankShares ?? null),
    cumulativeBelowChance: byModality((e) => (e.belowChance ? e.belowChance.pValue < significance : null)),
  };
  const { aboveGoalAtMean } = require(path.join(b.ROOT, 'dist/bench/pulse/report.js'));
  const people = subjectIds.map((id) => perSubject[id]).filter((p) => p?.multimodal?.total && p?.text?.total);
  // null when the audit scored nobody (an audit error has no metrics)
  if (!people.length) return { worst: { multimodal: null, text: null }, above: null, forgottenRunnerUp, ...cumulative };
  const worst = (m) => Math.max(...people.map((p) => p[m].correct / p[m].total));
  return { worst: { multimodal: worst('multimodal'), text: worst('text') }, above: aboveGoalAtMean(people), forgottenRunnerUp, ...cumulative };
}

function auditTable(audits) {
  const pair = (m) => `${m.multimodal?.toFixed(2) ?? '-'} / ${m.text?.toFixed(2) ?? '-'}`;
  const kept = (value, base) => (value == null || !base ? '-' : `${Math.round((100 * value) / base)} %`);
  const header = ['request', 'decision', 're-forgotten', 'forget', 'everyone forgotten', 'worst person', 'above 0.40: seen / at the mean', 'runner-up', 'forget quality', 'MIA AUC', 'below chance', 'everyone: FQ / AUC', 'retain kept', 'general kept'];
  const flag = (m) => `${m.multimodal == null ? '-' : m.multimodal ? 'yes' : 'no'} / ${m.text == null ? '-' : m.text ? 'yes' : 'no'}`;
  const auc = (m) => `${m.multimodal?.toFixed(2) ?? '-'} / ${m.text?.toFixed(2) ?? '-'}`;
  const fq = (m) => `${m.multimodal?.toPrecision(2) ?? '-'} / ${m.text?.toPrecision(2) ?? '-'}`;
  const cells = [header, ...audits.map((a) => [
    a.label, `${a.decision} (attempt ${a.attempt})`, a.reforgotten.join(',') || '-', pair(a.forget), pair(a.cumulativeForget), pair(a.worst),
    a.above == null ? '-' : `${a.above.seen} / ${a.above.atMean.toFixed(1)} of ${a.above.of}`,
    pair(a.forgottenRunnerUp),
    fq(a.forgetQuality), auc(a.miaAuc), flag(a.belowChance),
    `${fq(a.cumulativeForgetQuality)}; ${auc(a.cumulativeMiaAuc)}`,
    `${kept(a.retain.multimodal, a.baseline?.retain.multimodal)} / ${kept(a.retain.text, a.baseline?.retain.text)}`,
    kept(a.general, a.baseline?.general),
  ])];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}

async function main() {
  const requests = Number(option('requests', '4'));
  const strategy = option('strategy', 'SEQUENTIAL');
  // The lineage's gate policy (default: the product's); a permissive one measures single-attempt latency.
  const gatePolicy = option('gate-policy', null);
  // The lineage's hyper-parameters (default: the product's), to measure a candidate default through the service.
  const hyper = option('hyper', null);
  // The lineage's re-forget passes after each audit (default: the product's).
  const reforget = option('reforget', null);
  // Whom a pass takes: the forgotten people above this accuracy (default: the product's).
  const reforgetAbove = option('reforget-above', null);
  // Requests forget the dataset's people p<first>, p<first+1>, ... one each, `people` requests a step.
  const first = Number(option('first', '1'));
  const people = Number(option('people', '1'));
  b.ensureNodeModules();
  const py = b.ensurePythonEnv();
  const tinyRoot = process.env.LETHE_TINY_MODEL_ROOT || b.ensureTinyModel(py);
  b.buildTypeScript();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-e2e-'));
  const logFile = path.join(dataDir, 'stack.log');
  const logStream = fs.createWriteStream(logFile);
  b.log(`starting the stack (log: ${logFile})…`);
  const stack = await startStack({ dataDir, port: 0, py, tinyRoot, env: { LETHE_TORCH_THREADS: process.env.LETHE_TORCH_THREADS || '2' }, log: (line) => logStream.write(line + '\n') });
  // An interrupted benchmark leaves no worker training behind; its data directory stays for a look.
  stopOnSignals(stack, { log: b.log, stopped: `stopped; data in ${dataDir}`, exitCode: 130 });
  try {
    const token = fs.readFileSync(path.join(dataDir, 'operator.token'), 'utf8').trim();
    const lineage = 'bench';
    const input = { name: lineage, strategy, ...(gatePolicy ? { gatePolicy: JSON.parse(gatePolicy) } : {}), ...(hyper ? splitHyper(JSON.parse(hyper)) : {}), ...(reforget !== null ? { reforgetPasses: Number(reforget) } : {}),
      ...(reforgetAbove !== null ? { reforgetAboveAccuracy: Number(reforgetAbove) } : {}),
      // A step's requests are submitted back to back: a window of a few seconds takes them together.
      ...(people > 1 ? { batchingWindowSeconds: 5 } : {}) };
    const { createModelLineage: created } = await gql(stack, token, 'mutation ($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name hyperParameters reforgetPasses reforgetAboveAccuracy } }', { input });
    b.log(`lineage ${created.name}, hyperParameters ${JSON.stringify(created.hyperParameters)}, reforgetPasses ${created.reforgetPasses} above ${created.reforgetAboveAccuracy}`);
    const rows = [];
    const audits = [];
    const forgotten = [];
    for (let i = 0; i < requests; i++) {
      // One step: `people` requests, submitted within the lineage's batching window, unlearned together.
      const subjects = Array.from({ length: people }, (_, j) => `p${String(first + i * people + j).padStart(3, '0')}`);
      const name = people === 1 ? subjects[0] : `${subjects[0]}-${subjects.at(-1)}`;
      const submittedAt = Date.now();
      const ids = [];
      for (const [j, subject] of subjects.entries()) {
        const { submitDeletionRequest: r } = await gql(stack, token, 'mutation ($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id } }', {
          input: { lineage, idempotencyKey: `bench-${i}-${j}`, subject: { datasetSubjectId: subject }, legalBasis: 'GDPR Art. 17(1)(a)' },
        });
        ids.push(r.id);
      }
      let finished;
      do {
        await new Promise((res) => setTimeout(res, 500));
        finished = await Promise.all(ids.map(async (id) => (await gql(stack, token, 'query ($id: ID!) { deletionRequest(id: $id) { status statusReason modelVersion { reforgottenSubjectIds } } }', { id })).deletionRequest));
      } while (!finished.every((r) => TERMINAL.includes(r.status)));
      const { status, statusReason, modelVersion } = finished[0];
      const total = Date.now() - submittedAt;
      const steps = await activitySteps(stack.temporalAddress, lineage);
      const step = steps[steps.length - 1];
      // Stages add up over the gate's attempts (a RETRY trains and audits again) and re-forget passes.
      const row = { label: `${i + 1} ${name} ${status}`, unlearns: step.spans.unlearn?.length ?? 0, total, 'queue wait': step.begin - submittedAt };
      for (const [stage, spans] of Object.entries(step.spans)) row[stage] = spans.reduce((a, x) => a + x, 0);
      rows.push(row);
      const { auditReport: audit } = await gql(stack, token, `query ($id: ID!) { auditReport(requestId: $id) { ${AUDIT_FIELDS} } }`, { id: ids[0] });
      if (audit) audits.push({ label: `${i + 1} ${name}`, ...audit, reforgotten: modelVersion?.reforgottenSubjectIds ?? [], ...(await forgottenSpread(`${stack.baseUrl}${audit.jsonUrl}`, token, forgotten.concat(subjects))) });
      if (status === 'COMPLETED') forgotten.push(...subjects);
      b.log(`request ${i + 1}/${requests}: ${status} in ${(total / 1000).toFixed(1)} s${status === 'COMPLETED' ? '' : ` (${statusReason})`}`);
      if (status === 'NEEDS_REVIEW') {
        // The lineage holds every later request until an operator decides, so waiting would never end.
        b.log('the gate sent it to review, which holds the lineage: stopping here (pass --gate-policy to measure more requests)');
        break;
      }
    }
    const warm = rows.slice(1);
    const mean = (key) => warm.reduce((a, r) => a + (r[key] ?? 0), 0) / Math.max(1, warm.length);
    if (warm.length) rows.push({ label: 'mean (2..n)', total: mean('total'), ...Object.fromEntries(STAGES.map((s) => [s, mean(s)])) });
    process.stdout.write(`\nSubmission -> promotion on the tiny LLaVA, CPU (${os.cpus().length} cores), strategy ${strategy}, ${people} ${people === 1 ? 'person' : 'people'} a step, ${created.reforgetPasses} re-forget passes at most (on people above ${created.reforgetAboveAccuracy}), seconds:\n${table(rows)}\n`);
    if (audits.length) process.stdout.write(`\nLast audit of each request (accuracy multimodal / text; kept = % of version 0):\n${auditTable(audits)}\n`);
    process.stdout.write(JSON.stringify({ bench: 'e2e', strategy, requests, people, hyperParameters: created.hyperParameters, reforgetPasses: created.reforgetPasses, reforgetAboveAccuracy: created.reforgetAboveAccuracy, rows, audits }) + '\n');
  } finally {
    await stack.stop();
    logStream.end();
  }
}

main().catch((err) => {
  process.stderr.write(`bench:e2e failed: ${err.stack || err}\n`);
  process.exit(1);
});
