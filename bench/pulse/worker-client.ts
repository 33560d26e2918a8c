// The GPU worker's engine, called without Temporal: one long-lived `python -m lethe_worker.cli serve`
// process (torch is imported once) that runs the same unlearn / export_onnx functions the
// service's activities wrap. Requests go one JSON line at a time; answers carry the request id.
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as readline from 'node:readline';
import type { ExportOnnxOutput, UnlearnOutput } from '../../src/common/gpu-contracts';

export interface LoraSettings {
  rank: number;
  alpha: number;
  dropout: number;
  targets: string | string[];
}

export interface EngineDefaults {
  hyperParameters: Record<string, Record<string, number | string>>;
  lora: LoraSettings;
}

export class WorkerCallError extends Error {
  constructor(readonly code: string, message: string) {
    super(`${code}: ${message}`);
    this.name = 'WorkerCallError';
  }
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  onProgress?: (step: number, total: number) => void;
}

export interface WorkerClientOptions {
  python: string;
  workerDir: string;
  torchThreads?: number;
  /** Where the worker's stderr goes (library warnings); default: dropped. */
  onStderr?: (line: string) => void;
}

export class WorkerClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: Error | null = null;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {}

  static start(options: WorkerClientOptions): WorkerClient {
    const child = spawn(options.python, ['-m', 'lethe_worker.cli', 'serve'], {
      cwd: options.workerDir,
      env: {
        ...process.env,
        PYTHONPATH: options.workerDir,
        HF_HUB_OFFLINE: '1',
        TRANSFORMERS_VERBOSITY: 'error',
        LETHE_TORCH_THREADS: String(options.torchThreads ?? 2),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const client = new WorkerClient(child);
    readline.createInterface({ input: child.stdout }).on('line', (line) => client.onLine(line));
    readline.createInterface({ input: child.stderr }).on('line', (line) => options.onStderr?.(line));
    child.on('exit', (code, signal) => client.failAll(new Error(`lethe_worker.cli exited (code ${code}, signal ${signal})`)));
    child.on('error', (e) => client.failAll(new Error(`cannot start ${options.python}: ${e.message}`)));
    return client;
  }

  unlearn(payload: object, onProgress?: (step: number, total: number) => void): Promise<UnlearnOutput> {
    return this.call('unlearn', payload, onProgress) as Promise<UnlearnOutput>;
  }

  /** lethe_worker/config.py's per-method hyper-parameters and LoRA settings (the service's defaults). */
  defaults(): Promise<EngineDefaults> {
    return this.call('defaults', {}) as Promise<EngineDefaults>;
  }

  exportOnnx(payload: object): Promise<ExportOnnxOutput> {
    return this.call('export_onnx', payload) as Promise<ExportOnnxOutput>;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    await done;
  }

  /** Stops the worker at once (the benchmark was interrupted): a running unlearn is abandoned. */
  kill(): void {
    if (!this.exited) this.child.kill('SIGTERM');
  }

  private call(op: string, payload: object, onProgress?: (step: number, total: number) => void): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.child.stdin.write(JSON.stringify({ id, op, payload }) + '\n');
    });
  }

  private onLine(line: string): void {
    let message: { id?: number; progress?: [number, number]; result?: unknown; error?: { code: string; message: string } };
    try {
      message = JSON.parse(line);
    } catch {
      return; // a library printed to stdout; answers are always JSON
    }
    const pending = message.id === undefined ? undefined : this.pending.get(message.id);
    if (!pending) return;
    if (message.progress) {
      pending.onProgress?.(message.progress[0], message.progress[1]);
    } else if (message.error) {
      this.pending.delete(message.id!);
      pending.reject(new WorkerCallError(message.error.code, message.error.message));
    } else if ('result' in message) {
      this.pending.delete(message.id!);
      pending.resolve(message.result);
    }
  }

  private failAll(error: Error): void {
    this.exited = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
