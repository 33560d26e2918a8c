// Runs a gpu-worker or benchmark Python module inside the project's cached environment:
//   node scripts/py.cjs -m lethe_bench.unlearn --json
'use strict';
const { spawnSync } = require('node:child_process');
const b = require('./lib/bootstrap.cjs');

const py = b.ensurePythonEnv();
const tiny = b.ensureTinyModel(py);
const r = spawnSync(py.python, process.argv.slice(2), {
  cwd: b.WORKER_DIR,
  stdio: 'inherit',
  env: { ...process.env, PYTHONPATH: b.PYTHONPATH, LETHE_TINY_MODEL_ROOT: tiny, LETHE_TEMPORAL_BIN: py.temporal },
});
process.exit(r.status ?? 1);
