import * as path from 'node:path';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { DynamicModule, INestApplication, Module, Type } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { GraphQLModule, GraphQLSchemaHost } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';
import type { NextFunction, Request, Response } from 'express';
import { json } from 'express';
import { AuditsModule } from './audits/audits.module';
import { AuthService } from './auth/auth.service';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/common.module';
import { AppErrorFilter } from './common/app-error.filter';
import { formatGraphQLError } from './common/graphql-errors';
import { GraphQLJSON } from './common/json.scalar';
import { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { HealthController } from './health.controller';
import { LineagesModule } from './lineages/lineages.module';
import { OrchestrationModule } from './orchestration/orchestration.module';
import { RequestsModule } from './requests/requests.module';

/** 10 images of 5 MB in base64 (4/3) plus the rest of the request. */
export const MAX_BODY_BYTES = 80 * 1024 * 1024;

@Module({})
export class AppModule {
  /** `orchestration` provides REQUEST_QUEUE (and runs the workers); tests may pass their own. */
  static forRoot(config: AppConfig, orchestration: Type | DynamicModule = OrchestrationModule): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        DatabaseModule,
        EventsModule,
        AuthModule,
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          autoSchemaFile: true,
          sortSchema: true,
          resolvers: { JSON: GraphQLJSON },
          context: ({ req }: { req: Request }) => ({ req }),
          formatError: formatGraphQLError,
          includeStacktraceInErrorResponses: false,
          introspection: true,
          graphiql: false,
        }),
        LineagesModule,
        RequestsModule.withQueue(orchestration),
        AuditsModule,
      ],
      controllers: [HealthController],
      providers: [{ provide: APP_FILTER, useClass: AppErrorFilter }],
    };
  }
}

/** An over-limit body never reaches GraphQL: answer it in the same error shape. */
function payloadTooLarge(err: { type?: string }, _req: Request, res: Response, next: NextFunction): void {
  if (err?.type !== 'entity.too.large') return next(err);
  res.status(413).json({ errors: [{ message: `request body exceeds ${MAX_BODY_BYTES} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
}

/** Builds the application (used by main.ts and by the tests, so both run the same thing). */
export interface CreateAppOptions {
  logger?: false | ('log' | 'error' | 'warn')[];
  orchestration?: Type | DynamicModule;
}

export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config, options.orchestration), { bodyParser: false, logger: options.logger ?? ['log', 'error', 'warn'] });
  app.use(json({ limit: MAX_BODY_BYTES }));
  app.use(payloadTooLarge);
  app.enableShutdownHooks();
  await app.init();
  await app.get(AuthService).ensureBootstrapOperatorToken();
  return app;
}

/** schema.gql at the repository root (this file runs from dist/src/). */
export const SCHEMA_FILE = path.resolve(__dirname, '..', '..', 'schema.gql');

/** The public schema as committed in schema.gql. */
export function printAppSchema(app: INestApplication): string {
  return printSchema(lexicographicSortSchema(app.get(GraphQLSchemaHost).schema)) + '\n';
}
