// A small Nest module for Temporal (the npm wrappers lag Nest 12): the endpoint (embedded dev
// server or TEMPORAL_ADDRESS), a Client, and shutdown hooks that close them in order.
import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { resolveTemporalEndpoint, type TemporalEndpoint } from './temporal-endpoint';

export const TEMPORAL_ENDPOINT = Symbol('TEMPORAL_ENDPOINT');
export const TEMPORAL_CLIENT = Symbol('TEMPORAL_CLIENT');

@Global()
@Module({
  providers: [
    {
      provide: TEMPORAL_ENDPOINT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): Promise<TemporalEndpoint> => {
        const logger = new Logger('Temporal');
        return resolveTemporalEndpoint({
          address: config.temporalAddress,
          namespace: config.temporalNamespace,
          dataDir: config.dataDir,
          log: (message) => logger.log(message),
        });
      },
    },
    {
      provide: TEMPORAL_CLIENT,
      inject: [TEMPORAL_ENDPOINT],
      useFactory: async (endpoint: TemporalEndpoint): Promise<Client> => {
        const connection = await Connection.connect({ address: endpoint.address });
        return new Client({ connection, namespace: endpoint.namespace });
      },
    },
  ],
  exports: [TEMPORAL_ENDPOINT, TEMPORAL_CLIENT],
})
export class TemporalModule implements OnApplicationShutdown {
  constructor(
    @Inject(TEMPORAL_ENDPOINT) private readonly endpoint: TemporalEndpoint,
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.connection.close();
    await this.endpoint.ownedServer?.stop();
  }
}
