// `npm run up`: installs what is missing, builds the tiny LLaVA on first start, starts the whole
// service on embedded defaults (state in .data/), and stops every child cleanly on Ctrl-C.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const b = require('./lib/bootstrap.cjs');
const { startStack, stopAllStacks, stopOnSignals } = require('./lib/stack.cjs');
const { ensureBaseExport, ensureDefaultLineage } = require('./lib/first-start.cjs');

/** Relative to the working directory when inside it (.data/operator.token), else absolute. */
function displayPath(file) {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative;
}

async function main() {
  const started = Date.now();
  b.ensureNodeModules();
  const py = b.ensurePythonEnv();
  // LETHE_TINY_MODEL_ROOT: an already built model + dataset (skips the build, e.g. during development).
  const tinyRoot = process.env.LETHE_TINY_MODEL_ROOT || b.ensureTinyModel(py);
  b.buildTypeScript();
  b.ensureConsole();
  const dataDir = path.resolve(b.ROOT, process.env.LETHE_DATA_DIR || '.data');
  const port = Number(process.env.PORT || 3000);
  b.log(`starting Lethe (data in ${dataDir})…`);
  // Before the start: a signal at any moment from here on stops whatever has started.
  stopOnSignals(null, { log: b.log, stopped: 'stopped; in-flight requests resume on the next `npm run up`.' });
  const stack = await startStack({ dataDir, port, py, tinyRoot });

  const token = fs.readFileSync(path.join(dataDir, 'operator.token'), 'utf8').trim();
  await ensureDefaultLineage({ baseUrl: stack.baseUrl, token, tinyRoot, log: b.log });
  // The API's own config rule (LETHE_ARTIFACTS_DIR or .data/artifacts): the export must land where the workflow looks.
  const { loadConfig } = require(path.join(b.ROOT, 'dist/src/config/config.js'));
  const { artifactsDir } = loadConfig(stack.env, b.ROOT);
  await ensureBaseExport({ baseUrl: stack.baseUrl, token, py, workerDir: b.WORKER_DIR, artifactsDir, log: b.log, watch: stack.watch });
  // The token stays in its file (mode 600): terminals and logs travel further than the data dir.
  const tokenLine = `operator token: in ${displayPath(path.join(dataDir, 'operator.token'))} (mode 600)`;
  const { CONSOLE_PATH } = require(path.join(b.ROOT, 'dist/src/console/api/console-static.js'));
  process.stderr.write(`
Lethe is ready on ${stack.baseUrl}/graphql (started in ${((Date.now() - started) / 1000).toFixed(1)} s)
web console: ${stack.baseUrl}${CONSOLE_PATH}/ (sign in with a token)
${tokenLine}

Try:
  curl -s ${stack.baseUrl}/graphql -H "authorization: Bearer $(cat ${displayPath(path.join(dataDir, 'operator.token'))})" \\
    -H 'content-type: application/json' \\
    -d '{"query":"mutation { submitDeletionRequest(input: {lineage: \\"default\\", idempotencyKey: \\"demo-1\\", subject: {datasetSubjectId: \\"p001\\"}, legalBasis: \\"GDPR Art. 17\\"}) { id status dueAt } }"}'

Ctrl-C stops everything.
`);
}

main().catch(async (err) => {
  process.stderr.write(`[lethe] failed to start: ${err.stack || err}\n`);
  // A failure after some children started (the first ONNX export, a lineage call) must not leave them running.
  await stopAllStacks();
  process.exit(1);
});
