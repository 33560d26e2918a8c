// `npm run bench:chat [-- --requests 50]`
// Builds, then runs bench/chat/chat-latency (chat completion latency on the tiny LLaVA on loopback).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const b = require('../../scripts/lib/bootstrap.cjs');

b.ensureNodeModules();
const py = b.ensurePythonEnv();
const tiny = b.ensureTinyModel(py);
b.buildTypeScript();
const r = spawnSync(process.execPath, [path.join(b.ROOT, 'dist', 'bench', 'chat', 'chat-latency.js'), ...process.argv.slice(2)], {
  cwd: b.ROOT,
  stdio: 'inherit',
  env: { ...process.env, LETHE_PYTHON: py.python, LETHE_TINY_MODEL_ROOT: tiny },
});
process.exit(r.status ?? 1);
