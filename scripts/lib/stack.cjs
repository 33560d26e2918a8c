// Runs the whole service as child processes: embedded Postgres and the Temporal dev server
// (unless DATABASE_URL / TEMPORAL_ADDRESS point elsewhere), then the API, the TypeScript worker
// and the Python GPU worker. A child that dies is restarted with backoff, so a crash delays work
// and never drops it. Used by `npm run up` and by the end-to-end and fault tests.
// Nothing outlives the supervisor: a signal or a failure at any moment (start-up included) stops
// every child started so far, and if the supervisor itself dies without stopping them (kill -9),
// its reaper (reaper.cjs) does.
'use strict';
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const b = require('./bootstrap.cjs');

const dist = (p) => path.join(b.ROOT, 'dist', p);
const freePort = () => require(dist('src/database/embedded-postgres.js')).freePort();

function ensureEncryptionKey(dataDir) {
  const file = path.join(dataDir, 'encryption.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    // Created here, before any child starts, so that API and worker never race to make two keys.
    fs.writeFileSync(file, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

async function waitForHealth(url, timeoutMs, isAlive) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`process serving ${url} exited before it became healthy`);
    try {
      // Bounded: whatever holds the port may accept and never answer.
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms`);
}

/**
 * Starts the reaper: detached (a signal to the supervisor's process group leaves it be) and unref'd
 * (it never keeps the supervisor alive). The returned handle tells it what to stop if the supervisor dies.
 */
function startReaper() {
  const reaper = spawn(process.execPath, [path.join(__dirname, 'reaper.cjs')], { detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  reaper.unref();
  reaper.channel?.unref();
  const send = (message) => {
    if (reaper.connected) reaper.send(message);
  };
  return {
    pid: reaper.pid,
    watch: (name, pid, group) => send({ watch: { name, pid, group } }),
    unwatch: (name) => send({ unwatch: name }),
    postgres: (dir) => send({ postgresDir: dir }),
    /** Everything is stopped: the reaper exits without touching anything. */
    release: () => {
      send({ release: true });
      if (reaper.connected) reaper.disconnect();
    },
  };
}

/** The stop functions of every stack this process is running or starting, for signals and failures. */
const activeStops = new Set();

/** Stops every stack of this process (those still starting included). */
function stopAllStacks() {
  return Promise.all([...activeStops].map((stop) => stop()));
}

class Child {
  constructor(name, command, args, options, log, onSpawn = () => {}) {
    Object.assign(this, { name, command, args, options, log, onSpawn });
    this.proc = null;
    this.restarts = 0;
    this.wanted = false;
    this.exits = [];
  }

  start() {
    this.wanted = true;
    // Own process group: a Ctrl-C in the terminal reaches only the supervisor, which then stops
    // the children in order (API first, infrastructure last) instead of all at once.
    const proc = spawn(this.command, this.args, { ...this.options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    if (proc.pid) this.onSpawn(proc.pid);
    const prefix = (stream) => {
      let rest = '';
      stream.on('data', (chunk) => {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop();
        for (const line of lines) this.log(`[${this.name}] ${line}`);
      });
    };
    prefix(proc.stdout);
    prefix(proc.stderr);
    proc.once('exit', (code, signal) => {
      this.exits.push({ code, signal, at: Date.now() });
      if (this.proc === proc) this.proc = null;
      if (!this.wanted) return;
      this.restarts += 1;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(this.restarts, 5));
      this.log(`[stack] ${this.name} exited (${signal ?? code}); restarting in ${delay} ms`);
      this.timer = setTimeout(() => this.wanted && this.start(), delay);
    });
    return proc;
  }

  alive() {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** For fault tests: kill without stopping supervision, so the child comes back (restart: false: it stays dead). */
  kill(signal = 'SIGKILL', { restart = true } = {}) {
    if (!restart) {
      this.wanted = false;
      clearTimeout(this.timer);
    }
    if (this.proc) this.proc.kill(signal);
  }

  async stop(graceMs = 15_000) {
    this.wanted = false;
    clearTimeout(this.timer);
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The GPU worker reads its inputs from the activity and the artifacts directory: it gets no database
 * and no key, so a compromised training job cannot read other requests or forge the evidence.
 */
const GPU_WORKER_WITHHELD = ['DATABASE_URL', 'LETHE_ENCRYPTION_KEY', 'LETHE_CHAIN_KEY', 'LETHE_REPORT_SIGNING_KEY_FILE', 'PGPASSWORD'];
function gpuWorkerEnv(env) {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !GPU_WORKER_WITHHELD.includes(name)));
}

/** The children's names for `count` workers of one kind: worker, worker2, worker3, ... */
function workerNames(base, count = 1) {
  return Array.from({ length: count }, (_, i) => (i === 0 ? base : `${base}${i + 1}`));
}

/**
 * Starts the stack. Options: dataDir, port (API; 0 for a free one), env (extra env for children), log (line sink),
 * tinyRoot (model + dataset cache dir), py ({python, temporal} from ensurePythonEnv), workers ({ts, gpu}: how many
 * TypeScript and GPU workers, 1 each by default; the extra ones are children worker2, gpu2, ...).
 */
async function startStack(opts) {
  const log = opts.log ?? ((line) => process.stderr.write(line + '\n'));
  const dataDir = path.resolve(opts.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const reaper = startReaper();
  const children = {};
  const stopInfra = [];
  let stopped = null;
  const stop = () => {
    // The API first (no new work), then the workers (they finish or hand back their tasks), then
    // Temporal and Postgres; idempotent, so a second Ctrl-C or a test's after() is harmless.
    stopped ??= (async () => {
      await children.api?.stop();
      await Promise.all(Object.entries(children).filter(([name]) => name !== 'api').map(([, c]) => c.stop()));
      for (const s of stopInfra.reverse()) await s();
      reaper.release();
      activeStops.delete(stop);
    })();
    return stopped;
  };
  activeStops.add(stop);
  /** Infrastructure that finished starting after a stop began is stopped at once, and the start gives up. */
  const started = async (stopIt) => {
    if (stopped) {
      await stopIt();
      throw new Error('the stack was stopped while it was starting');
    }
    stopInfra.push(stopIt);
  };
  try {
    let databaseUrl = process.env.DATABASE_URL || opts.env?.DATABASE_URL;
    let postgres = null;
    if (!databaseUrl) {
      const { startEmbeddedPostgres } = require(dist('src/database/embedded-postgres.js'));
      log('[stack] starting embedded Postgres…');
      const pgDir = path.join(dataDir, 'postgres');
      reaper.postgres(pgDir);
      let pg = await startEmbeddedPostgres(pgDir, { port: opts.pgPort });
      // A Postgres that already stopped (a signal to the whole process group reaches it too) removed its
      // postmaster.pid; embedded-postgres's stop() would then wait forever for an exit that has happened.
      await started(() => (fs.existsSync(path.join(pgDir, 'postmaster.pid')) ? pg.stop() : undefined));
      databaseUrl = pg.url;
      const pgPort = Number(new URL(databaseUrl).port);
      postgres = {
        /** For fault tests: stops the database, keeps it down for downMs, starts it again on the same port. */
        async restart(downMs = 0) {
          await pg.stop();
          log(`[stack] Postgres stopped for ${downMs} ms`);
          await new Promise((r) => setTimeout(r, downMs));
          pg = await startEmbeddedPostgres(pgDir, { port: pgPort });
          log('[stack] Postgres started again');
        },
      };
    }
    let temporalAddress = process.env.TEMPORAL_ADDRESS || opts.env?.TEMPORAL_ADDRESS;
    if (!temporalAddress) {
      const { startDevServer } = require(dist('src/temporal/dev-server.js'));
      log('[stack] starting the Temporal dev server…');
      const server = await startDevServer({ binary: opts.py.temporal, dbFile: path.join(dataDir, 'temporal.db'), dynamicConfig: opts.temporalDynamicConfig });
      reaper.watch('temporal', server.pid, false);
      await started(() => server.stop());
      temporalAddress = server.address;
    }
    // Port 0: a free port, picked only now. The dev server binds five more random ports for its own services, so
    // a port picked before it started could be taken by then and the API would never come up (a CI run saw it).
    const port = opts.port === 0 ? await freePort() : (opts.port ?? 3000);
    const env = {
      ...process.env,
      ...opts.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      LETHE_DATA_DIR: dataDir,
      LETHE_ENCRYPTION_KEY: process.env.LETHE_ENCRYPTION_KEY || ensureEncryptionKey(dataDir),
      LETHE_TINY_MODEL_ROOT: opts.tinyRoot,
      LETHE_TEMPORAL_BIN: opts.py.temporal,
      LETHE_PYTHON: opts.py.python,
      PORT: String(port),
      HF_HUB_OFFLINE: '1',
    };
    const child = (name, command, args, options) => new Child(name, command, args, options, log, (pid) => reaper.watch(name, pid, true));
    children.api = child('api', process.execPath, [dist('src/main.js')], { cwd: b.ROOT, env });
    const tsWorkers = workerNames('worker', opts.workers?.ts);
    const gpuWorkers = workerNames('gpu', opts.workers?.gpu);
    for (const name of tsWorkers) children[name] = child(name, process.execPath, [dist('src/worker.js')], { cwd: b.ROOT, env });
    for (const name of gpuWorkers) children[name] = child(name, opts.py.python, ['-m', 'lethe_worker.worker', '--address', temporalAddress], { cwd: b.WORKER_DIR, env: { ...gpuWorkerEnv(env), PYTHONPATH: b.WORKER_DIR } });
    const baseUrl = `http://127.0.0.1:${port}`;
    if (stopped) throw new Error('the stack was stopped while it was starting');
    children.api.start();
    // The API runs the migrations; workers start after it is healthy so they see the schema.
    await waitForHealth(`${baseUrl}/healthz`, opts.startTimeoutMs ?? 120_000, () => !stopped && (children.api.alive() || children.api.wanted)).catch((err) => {
      const exits = children.api.exits.map((e) => e.signal ?? e.code).join(', ');
      throw new Error(`${err.message}; the API ${exits ? `exited ${children.api.exits.length} time(s) (${exits})` : 'never exited'}`);
    });
    if (stopped) throw new Error('the stack was stopped while it was starting');
    for (const name of [...tsWorkers, ...gpuWorkers]) children[name].start();
    /** Also stopped by the reaper if this process dies: for helpers the supervisor runs itself (the first ONNX export). */
    const watch = (name, pid) => reaper.watch(name, pid, false);
    return { baseUrl, databaseUrl, temporalAddress, dataDir, children, postgres, stop, env, watch, unwatch: reaper.unwatch, reaperPid: reaper.pid };
  } catch (err) {
    await stop();
    throw err;
  }
}

const SHUTDOWN_LIMIT_MS = 60_000;

/**
 * On SIGINT or SIGTERM, stop every child in order and exit. embedded-postgres installs an exit hook that stops
 * Postgres and exits the process at once, while the API and the workers, in their own process groups, would run on
 * orphaned (a GPU worker keeps training). Install it before startStack: a signal during the start stops what has
 * started so far (every stack of this process; `stack` is not needed and kept for the callers that pass it).
 */
function stopOnSignals(_stack, { log, stopped = '', exitCode = 0 }) {
  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping every child…`);
    // Keeps the event loop alive while children stop, and bounds a stop that would never end.
    setTimeout(() => {
      log(`${signal}: children still stopping after ${SHUTDOWN_LIMIT_MS} ms; exiting (the reaper stops what is left)`);
      process.exit(exitCode);
    }, SHUTDOWN_LIMIT_MS);
    await stopAllStacks();
    if (stopped) log(stopped);
    process.exit(exitCode);
  };
  // embedded-postgres adds its own SIGINT/SIGTERM listeners when it is first loaded (async-exit-hook: stop
  // Postgres, exit 143 at once); load it now, so that they exist to be replaced even before the first start.
  require(require.resolve('embedded-postgres', { paths: [b.ROOT] }));
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

module.exports = { GPU_WORKER_WITHHELD, startStack, stopOnSignals, stopAllStacks, waitForHealth };
