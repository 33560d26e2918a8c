// The TypeScript worker process: lineage workflows + bookkeeping activities (queue `control`) and
// the PULSE audit (queue `audit`). The Python GPU worker serves queue `gpu` separately.
// Shares Postgres and Temporal with the API: set DATABASE_URL (and TEMPORAL_ADDRESS, or let it
// find/start the embedded dev server on LETHE_TEMPORAL_PORT).
import 'reflect-metadata';
import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommonModule } from './common/common.module';
import { ConfigError, loadConfig, type AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { OrchestrationWorkerModule } from './orchestration/orchestration-worker.module';

@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: WorkerModule, imports: [ConfigModule.forRoot(config), CommonModule, DatabaseModule, EventsModule, OrchestrationWorkerModule] };
  }
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
    // An embedded Postgres of its own would be a second, empty database: share the API's.
    if (config.database.kind === 'embedded') throw new ConfigError('DATABASE_URL', 'must be set for the worker process: it shares the database of the API (npm run up passes the embedded one)');
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { logger: ['log', 'error', 'warn'] });
  const logger = new Logger('Worker');
  logger.log('TypeScript worker running (queues control, audit)');
  // Drain the workers (their current activities finish or time out), close the database and
  // Temporal connections, then exit 0 so a supervisor sees a clean stop.
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.log(`${signal}: stopping`);
      app.close().then(
        () => process.exit(0),
        (err) => {
          console.error(err);
          process.exit(1);
        },
      );
    });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
