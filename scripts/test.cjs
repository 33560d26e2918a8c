// `npm test`: installs what is missing, then runs every test, Python and TypeScript.
// Usage: npm test [-- --only py|ts] [-- <extra node --test file filters>]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const b = require('./lib/bootstrap.cjs');

function collectTests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return collectTests(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  }).sort();
}

// The service's tests and the benchmarks' (each build compiles its own into dist/).
const TS_TEST_DIRS = [path.join(b.ROOT, 'dist', 'test'), path.join(b.ROOT, 'dist', 'bench', 'test')];
// pytest runs in gpu-worker/; the benchmarks' Python tests lie beside their package under bench/python.
const PY_TEST_DIRS = ['tests', path.relative(b.WORKER_DIR, path.join(b.BENCH_DIR, 'python', 'tests'))];

/** Every Python test, or only the files and node ids the filters name (`tests/test_losses.py::test_x -x`). */
function pytestArgs(filters) {
  const namesTests = filters.some((f) => !f.startsWith('-') && fs.existsSync(path.join(b.WORKER_DIR, f.split('::')[0])));
  return namesTests ? filters : [...PY_TEST_DIRS, ...filters];
}

function countLine(out, re) {
  const m = out.match(re);
  return m ? Number(m[1]) : 0;
}

/** Runs a test runner, streaming its output (so a slow suite shows progress) and keeping a copy to count. */
function runStreaming(command, args, options) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (status) => resolve({ status, stdout: out }));
  });
}

async function main() {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
  const filters = args.filter((a, i) => a !== '--only' && args[i - 1] !== '--only');

  b.ensureNodeModules();
  const py = b.ensurePythonEnv();
  const tiny = b.ensureTinyModel(py);
  b.ensureChromium();
  b.buildTypeScript();
  b.ensureConsole();
  const env = {
    ...process.env,
    LETHE_TINY_MODEL_ROOT: tiny,
    LETHE_PYTHON: py.python,
    LETHE_TEMPORAL_BIN: py.temporal,
    PYTHONPATH: b.PYTHONPATH,
  };

  let passed = 0;
  let failed = 0;
  if (only !== 'ts') {
    b.log('running Python tests (pytest)…');
    const r = await runStreaming(py.python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', ...pytestArgs(only === 'py' ? filters : [])], {
      cwd: b.WORKER_DIR, env,
    });
    passed += countLine(r.stdout, /(\d+) passed/);
    failed += countLine(r.stdout, /(\d+) failed/) + countLine(r.stdout, /(\d+) error/);
    if (r.status !== 0 && r.status !== 5) failed += failed === 0 ? 1 : 0;
  }
  if (only !== 'py') {
    let files = TS_TEST_DIRS.flatMap(collectTests);
    if (only === 'ts' && filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
    b.log(`running ${files.length} TypeScript test files (node --test)…`);
    const r = await runStreaming(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
      cwd: b.ROOT, env,
    });
    passed += countLine(r.stdout, /ℹ pass (\d+)/);
    failed += countLine(r.stdout, /ℹ fail (\d+)/);
    if (r.status !== 0) failed += failed === 0 ? 1 : 0;
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
