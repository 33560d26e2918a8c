// First start of the embedded default: the lineage `default` over the tiny LLaVA, created through
// the public GraphQL API (so it gets the same validation and events as an operator's call).
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

async function graphql(baseUrl, token, query, variables) {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  return body;
}

async function ensureDefaultLineage({ baseUrl, token, log }) {
  const found = await graphql(baseUrl, token, 'query { modelLineage(name: "default") { name championVersion } }');
  if (found.data?.modelLineage) return false;
  const code = found.errors?.[0]?.extensions?.code;
  if (code !== 'NOT_FOUND') throw new Error(`could not look up lineage default: ${JSON.stringify(found.errors)}`);
  log('creating lineage "default" over the tiny LLaVA and registering its dataset subjects…');
  const created = await graphql(baseUrl, token, 'mutation { createModelLineage(input: {name: "default"}) { name } }');
  if (created.errors) throw new Error(`could not create lineage default: ${JSON.stringify(created.errors)}`);
  return true;
}

/**
 * Exports the default lineage's base model to ONNX now, so that the first request does not wait for
 * it: the `export_onnx` activity finds the complete export under the same key (base model id + LoRA
 * layout) in the same output root and reuses it. A second start reuses it too.
 */
async function ensureBaseExport({ baseUrl, token, py, workerDir, artifactsDir, log, watch }) {
  const found = await graphql(baseUrl, token, 'query { modelLineage(name: "default") { baseModelId baseModelPath lora } }');
  const lineage = found.data?.modelLineage;
  if (!lineage) throw new Error(`could not read lineage default: ${JSON.stringify(found.errors)}`);
  log('ONNX export of the base model for the audits (once per base model and LoRA layout)…');
  const started = Date.now();
  const args = ['-m', 'lethe_worker.export_onnx', '--model', lineage.baseModelPath, '--id', lineage.baseModelId,
    '--lora', JSON.stringify(lineage.lora), '--out', path.join(artifactsDir, 'onnx'), '--progress'];
  // Asynchronous, so that a signal to the supervisor is handled during the export (spawnSync would hold it
  // until the export ends); the export is stopped with the supervisor, and by the reaper if it dies.
  const child = spawn(py.python, args, { cwd: workerDir, env: { ...process.env, PYTHONPATH: workerDir }, stdio: ['ignore', 'pipe', 'inherit'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  if (watch && child.pid) watch('onnx-export', child.pid);
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  const status = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(signal ?? code));
  }).finally(() => process.off('exit', killOnExit));
  if (status !== 0) throw new Error(`ONNX export of ${lineage.baseModelPath} failed (exit ${status}); see the lines above`);
  const run = { stdout };
  const out = JSON.parse(run.stdout.trim().split('\n').pop());
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log(out.reused ? `ONNX export: already in ${out.dir}` : `ONNX export: ${out.dir} (${seconds} s)`);
  return out;
}

module.exports = { graphql, ensureDefaultLineage, ensureBaseExport };
