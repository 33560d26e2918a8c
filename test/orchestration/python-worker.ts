// Starts the real Python GPU worker (gpu-worker, `python -m lethe_worker.worker`) against a
// Temporal server, for tests that cross the language boundary. Needs LETHE_PYTHON (npm test sets it).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const GPU_WORKER_DIR = path.resolve(__dirname, '../../../gpu-worker');
const READY_LINE = 'lethe worker ready';

export interface RunningPythonWorker {
  output(): string;
  /** SIGTERM, then the exit code (SIGKILL after the grace period). */
  stop(): Promise<number | null>;
  process: ChildProcess;
}

export async function startPythonWorker(address: string, options: { taskQueue?: string; timeoutMs?: number } = {}): Promise<RunningPythonWorker> {
  const python = process.env.LETHE_PYTHON;
  if (!python) throw new Error('LETHE_PYTHON: not set; run the tests through `npm test` (it creates the Python environment)');
  const child = spawn(python, ['-m', 'lethe_worker.worker', '--address', address, '--task-queue', options.taskQueue ?? 'gpu', '--graceful-seconds', '5'], {
    cwd: GPU_WORKER_DIR,
    env: { ...process.env, PYTHONPATH: GPU_WORKER_DIR, HF_HUB_OFFLINE: '1', LETHE_TORCH_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!output.includes(READY_LINE)) {
    if (child.exitCode !== null) throw new Error(`the Python worker exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the Python worker did not get ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
