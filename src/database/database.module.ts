import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { openDatabase } from './data-source';
import { RunningPostgres, startEmbeddedPostgres } from './embedded-postgres';

const EMBEDDED_POSTGRES = Symbol('EMBEDDED_POSTGRES');

@Global()
@Module({
  providers: [
    {
      provide: EMBEDDED_POSTGRES,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<RunningPostgres | null> => {
        if (config.database.kind === 'external') return null;
        const started = await startEmbeddedPostgres(config.database.dataDir);
        new Logger('Database').log(`embedded Postgres running (data in ${config.database.dataDir})`);
        return started;
      },
    },
    {
      provide: DataSource,
      inject: [APP_CONFIG, EMBEDDED_POSTGRES],
      useFactory: (config: AppConfig, embedded: RunningPostgres | null) =>
        openDatabase(config.database.kind === 'external' ? config.database.url : embedded!.url),
    },
  ],
  exports: [DataSource],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(EMBEDDED_POSTGRES) private readonly embedded: RunningPostgres | null,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded?.stop();
  }
}
