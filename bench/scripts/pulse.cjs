// `npm run pulse -- <setting> [...]`: the PULSE benchmark (bench/pulse/cli.ts) on the tiny LLaVA,
// or on --model DIR. Bootstraps like scripts/py.cjs, then runs the compiled CLI.
// An existing LETHE_TINY_MODEL_ROOT is used as is (no rebuild check).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const b = require('../../scripts/lib/bootstrap.cjs');

b.ensureNodeModules();
const py = b.ensurePythonEnv();
const argv = process.argv.slice(2);
if (argv.includes('--out')) b.ensureChromium();
const tiny = process.env.LETHE_TINY_MODEL_ROOT || (argv.includes('--model') ? '' : b.ensureTinyModel(py));
b.buildTypeScript();
const r = spawnSync(process.execPath, [path.join(b.ROOT, 'dist', 'bench', 'pulse', 'cli.js'), ...argv], {
  cwd: b.ROOT,
  stdio: 'inherit',
  env: { ...process.env, LETHE_TINY_MODEL_ROOT: tiny, LETHE_PYTHON: py.python, HF_HUB_OFFLINE: '1' },
});
process.exit(r.status ?? 1);
