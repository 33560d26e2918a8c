// Runs a benchmark's Python module in the project's cached environment WITHOUT the tiny LLaVA
// (the module builds its own model): `node bench/scripts/python.cjs lethe_bench.scale --layers 2 --json`.
'use strict';
const { spawnSync } = require('node:child_process');
const b = require('../../scripts/lib/bootstrap.cjs');

const [pyModule, ...args] = process.argv.slice(2);
const py = b.ensurePythonEnv();
const r = spawnSync(py.python, ['-m', pyModule, ...args], {
  cwd: b.WORKER_DIR,
  stdio: 'inherit',
  env: { ...process.env, PYTHONPATH: b.PYTHONPATH, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
});
process.exit(r.status ?? 1);
