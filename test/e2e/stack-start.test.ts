// A stack that cannot start says why: CI keeps only the test output, so the failure itself must carry the
// API's exits and the children's last lines.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startE2eStack } from './harness';

const STACK = path.resolve(__dirname, '../../../scripts/lib/stack.cjs');
const { GPU_WORKER_WITHHELD } = require(STACK) as { GPU_WORKER_WITHHELD: string[] };

const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
};

/** Every process below `root` now (children, their children...), from /proc. */
function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parents) if (parent === pid) (found.push(child), walk(child));
  };
  walk(root);
  return found;
}

/** A supervisor like `npm run up`'s: signals handled from before the start; prints its children's pids once started. */
function superviseScript(dataDir: string): string {
  return `
    const { startStack, stopOnSignals } = require(${JSON.stringify(STACK)});
    stopOnSignals(null, { log: (line) => process.stderr.write(line + '\\n'), stopped: 'all stopped', exitCode: 130 });
    (async () => {
      const stack = await startStack({ dataDir: ${JSON.stringify(dataDir)}, port: 0, log: (line) => process.stderr.write(line + '\\n'),
        py: { python: process.env.LETHE_PYTHON, temporal: process.env.LETHE_TEMPORAL_BIN }, tinyRoot: process.env.LETHE_TINY_MODEL_ROOT,
        env: { LETHE_TORCH_THREADS: '1' } });
      const { api, worker, gpu } = stack.children;
      process.stdout.write(JSON.stringify({ api: api.proc.pid, worker: worker.proc.pid, gpu: gpu.proc.pid, reaper: stack.reaperPid }) + '\\n');
    })().catch((err) => { process.stderr.write(err.stack + '\\n'); process.exit(1); });`;
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('stack start-up', () => {
  it('fails with the API\'s exits and its last output when the API cannot take its port', { timeout: 120_000 }, async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as net.AddressInfo;
    try {
      const error = await startE2eStack('port-taken', {}, { port, startTimeoutMs: 6000 }).then(
        () => assert.fail('the stack started on a port another process holds'),
        (err: Error) => err,
      );
      assert.match(error.message, /healthz not healthy after 6000 ms; the API exited [1-9]\d* time\(s\) \(1(, 1)*\)/);
      assert.match(error.message, /\[api\].*EADDRINUSE/);
      const logFile = /last lines of (\S+):/.exec(error.message)?.[1];
      assert.ok(logFile && fs.existsSync(logFile), 'the failed stack keeps its log for a look');
      fs.rmSync(logFile.replace(/\/stack\.log$/, ''), { recursive: true, force: true });
    } finally {
      squatter.close();
    }
  });

  it('a Ctrl-C stops every child, the GPU worker included, and exits with the code asked for', { timeout: 180_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-e2e-signal-'));
    // What `npm run up` and `npm run bench:e2e` do: start the stack, then leave signals to stopOnSignals.
    const script = `
      const { startStack, stopOnSignals } = require(${JSON.stringify(STACK)});
      (async () => {
        const stack = await startStack({ dataDir: ${JSON.stringify(dataDir)}, port: 0, log: () => {},
          py: { python: process.env.LETHE_PYTHON, temporal: process.env.LETHE_TEMPORAL_BIN }, tinyRoot: process.env.LETHE_TINY_MODEL_ROOT,
          env: { LETHE_TORCH_THREADS: '1' } });
        stopOnSignals(stack, { log: (line) => process.stderr.write(line + '\\n'), stopped: 'all stopped', exitCode: 130 });
        const { api, worker, gpu } = stack.children;
        process.stdout.write(JSON.stringify({ api: api.proc.pid, worker: worker.proc.pid, gpu: gpu.proc.pid }) + '\\n');
      })().catch((err) => { process.stderr.write(err.stack + '\\n'); process.exit(1); });`;
    const supervisor = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    supervisor.stdout.on('data', (chunk) => (stdout += chunk));
    supervisor.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => supervisor.once('exit', (code) => resolve(code)));
    let pids: Record<string, number> = {};
    try {
      const started = Date.now();
      while (!stdout.includes('\n')) {
        assert.equal(supervisor.exitCode, null, `the stack did not start: ${stderr}`);
        assert.ok(Date.now() - started < 120_000, 'the stack took more than 120 s to start');
        await new Promise((r) => setTimeout(r, 200));
      }
      pids = JSON.parse(stdout) as Record<string, number>;
      assert.ok(Object.values(pids).every((pid) => !gone(pid)), 'every child runs before the signal');
      const environ = (pid: number) => new Set(fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').map((entry) => entry.split('=')[0]));
      assert.ok(environ(pids.api).has('DATABASE_URL') && environ(pids.api).has('LETHE_ENCRYPTION_KEY'), 'the API has its database and key');
      const gpuEnv = environ(pids.gpu);
      assert.deepEqual(GPU_WORKER_WITHHELD.filter((name) => gpuEnv.has(name)), [], 'the GPU worker gets no database and no key');
      supervisor.kill('SIGINT');
      assert.equal(await exited, 130, stderr);
      assert.match(stderr, /SIGINT: stopping every child…[\s\S]*all stopped/);
      assert.deepEqual(Object.entries(pids).filter(([, pid]) => !gone(pid)), [], 'no child outlives the supervisor');
    } finally {
      supervisor.kill('SIGKILL');
      // A failure here must not leave a worker training for the rest of the run.
      for (const pid of Object.values(pids)) if (!gone(pid)) process.kill(pid, 'SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a kill -9 of the supervisor leaves no child running (its reaper stops them), and the next start works', { timeout: 300_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-e2e-kill9-'));
    const seen = new Set<number>();
    try {
      const first = spawn(process.execPath, ['-e', superviseScript(dataDir)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      first.stdout.on('data', (chunk) => (stdout += chunk));
      first.stderr.on('data', (chunk) => (stderr += chunk));
      await waitFor(() => stdout.includes('\n') || first.exitCode !== null, 120_000, 'the stack took more than 120 s to start');
      assert.equal(first.exitCode, null, `the stack did not start: ${stderr}`);
      for (const pid of descendants(first.pid!)) seen.add(pid);
      // api, worker, gpu, Temporal, Postgres (and its helpers), the reaper
      assert.ok(seen.size >= 6, `children: ${[...seen].join(', ')}`);
      first.kill('SIGKILL');
      await waitFor(() => [...seen].every(gone), 60_000, `still running after the supervisor was killed: ${[...seen].filter((p) => !gone(p)).join(', ')}`);

      const second = spawn(process.execPath, ['-e', superviseScript(dataDir)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout2 = '';
      let stderr2 = '';
      second.stdout.on('data', (chunk) => (stdout2 += chunk));
      second.stderr.on('data', (chunk) => (stderr2 += chunk));
      const exited = new Promise<number | null>((resolve) => second.once('exit', (code) => resolve(code)));
      await waitFor(() => stdout2.includes('\n') || second.exitCode !== null, 120_000, 'the second start took more than 120 s');
      assert.equal(second.exitCode, null, `the second start failed: ${stderr2}`);
      for (const pid of descendants(second.pid!)) seen.add(pid);
      second.kill('SIGTERM');
      assert.equal(await exited, 130, stderr2);
      await waitFor(() => [...seen].every(gone), 30_000, 'a child outlived the second supervisor');
    } finally {
      for (const pid of seen) if (!gone(pid)) process.kill(pid, 'SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a SIGTERM to the process group while the stack is starting stops what had started', { timeout: 180_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-e2e-early-'));
    const seen = new Set<number>();
    try {
      // Its own process group, as `npm run up` in a terminal: the signal goes to the whole group.
      const supervisor = spawn(process.execPath, ['-e', superviseScript(dataDir)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let stderr = '';
      supervisor.stderr.on('data', (chunk) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => supervisor.once('exit', (code) => resolve(code)));
      // Once the API is starting: Postgres and Temporal run, the workers are not started yet.
      await waitFor(() => {
        for (const pid of descendants(supervisor.pid!)) seen.add(pid);
        return /\[api\]/.test(stderr) || supervisor.exitCode !== null;
      }, 120_000, 'the API never started');
      process.kill(-supervisor.pid!, 'SIGTERM');
      assert.equal(await exited, 130, stderr);
      assert.match(stderr, /SIGTERM: stopping every child/);
      await waitFor(() => [...seen].every(gone), 30_000, `still running: ${[...seen].filter((p) => !gone(p)).join(', ')}`);
    } finally {
      for (const pid of seen) if (!gone(pid)) process.kill(pid, 'SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
