import * as path from 'node:path';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { DynamicModule, INestApplication, Module, Type } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { GraphQLModule, GraphQLSchemaHost } from '@nestjs/graphql';
import { DocumentNode, GraphQLError, lexicographicSortSchema, printSchema } from 'graphql';
import type { NextFunction, Request, Response } from 'express';
import { json } from 'express';
import { AuditsModule } from './audits/audits.module';
import type { AuthenticatedRequest } from './auth/api/auth.decorators';
import { AuthService } from './auth/auth.service';
import type { Role } from './auth/domain/principal';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/common.module';
import { mountConsole } from './console/api/console-static';
import { AppErrorFilter } from './common/app-error.filter';
import { AppError, AuthError, InputError } from './common/errors';
import { findUnstorableLiteral, findUnstorableVariable } from './common/storable-text';
import { formatGraphQLError } from './common/graphql-errors';
import { queryLimitsRule, usesIntrospection } from './common/query-limits';
import { GraphQLJSON } from './common/json.scalar';
import { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { LineagesModule } from './lineages/lineages.module';
import { NotificationsModule } from './notifications/notifications.module';
import { OperationsModule } from './operations/operations.module';
import { OrchestrationModule } from './orchestration/orchestration.module';
import { RequestsModule } from './requests/requests.module';
import { ServingModule } from './serving/serving.module';

/** 10 images of 5 MB in base64 (4/3) plus the rest of the request: only for callers who may send images. */
export const MAX_BODY_BYTES = 80 * 1024 * 1024;
/** Every other body (no token, an invalid one, a role that cannot send images): queries and small mutations. */
export const MAX_UNPRIVILEGED_BODY_BYTES = 64 * 1024;
/** The roles allowed to call what carries images: submitDeletionRequest (REQUESTER, OPERATOR) and chat completions (SERVING, OPERATOR). */
const IMAGE_SENDING_ROLES: readonly Role[] = ['REQUESTER', 'OPERATOR', 'SERVING'];

/** An AppError raised before any resolver runs, with its HTTP status (Apollo answers 500 otherwise). */
function refuseOperation(error: AppError, status: number): never {
  throw new GraphQLError(error.message, { originalError: error, extensions: { http: { status } } });
}

/**
 * Checks on the whole operation once it is known, before any resolver runs. They depend on the
 * variables or on who is calling, so they cannot be validation rules (Apollo caches validated documents).
 * - The schema is for callers with a token, and not for SERVING tokens (model endpoints only).
 * - No argument may carry text Postgres would store differently from what was sent (NUL, lone surrogates).
 */
const operationChecks = {
  async requestDidStart() {
    return {
      async didResolveOperation({ document, request, contextValue }: { document: DocumentNode; request: { variables?: Record<string, unknown> }; contextValue: { req: AuthenticatedRequest } }) {
        if (!contextValue.req.principal && usesIntrospection(document)) {
          refuseOperation(new AuthError('UNAUTHENTICATED', 'introspection needs an Authorization: Bearer <token> header'), 401);
        }
        if (contextValue.req.principal?.role === 'SERVING') {
          refuseOperation(new AuthError('FORBIDDEN', 'SERVING may call the model endpoints (/v1, /models) only, not GraphQL'), 403);
        }
        const unstorable = findUnstorableVariable(request.variables ?? {}, '') ?? findUnstorableLiteral(document);
        if (unstorable) refuseOperation(new InputError(unstorable.field, unstorable.problem), 400);
      },
    };
  },
};

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
          validationRules: [queryLimitsRule],
          plugins: [operationChecks],
          graphiql: false,
        }),
        LineagesModule,
        RequestsModule.withQueue(orchestration),
        AuditsModule.withSubjects(LineagesModule),
        OperationsModule,
        ServingModule,
        NotificationsModule.forApi(),
      ],
      providers: [{ provide: APP_FILTER, useClass: AppErrorFilter }],
    };
  }
}

/** An over-limit body never reaches GraphQL: answer it in the same error shape. */
function payloadTooLarge(err: { type?: string; limit?: number }, _req: Request, res: Response, next: NextFunction): void {
  if (err?.type !== 'entity.too.large') return next(err);
  res.status(413).json({ errors: [{ message: `request body exceeds ${err.limit} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
}

/**
 * Authenticates from the headers before reading the body, so that a caller without a valid token
 * (or one that cannot submit) is refused at the small limit, from its Content-Length when it sends
 * one, without the server buffering megabytes for it. The principal found here is the one AuthGuard
 * uses; an invalid token is left for the guard to refuse with its usual error.
 */
function bodyParserByCaller(auth: AuthService) {
  const small = json({ limit: MAX_UNPRIVILEGED_BODY_BYTES });
  const large = json({ limit: MAX_BODY_BYTES });
  return (req: AuthenticatedRequest, res: Response, next: NextFunction): void => {
    const parse = () => (req.principal && IMAGE_SENDING_ROLES.includes(req.principal.role) ? large : small)(req, res, next);
    if (!req.headers.authorization) return parse();
    auth.authenticate(req.headers.authorization).then(
      (principal) => {
        req.principal = principal;
        parse();
      },
      () => parse(),
    );
  };
}

/** Builds the application (used by main.ts and by the tests, so both run the same thing). */
export interface CreateAppOptions {
  logger?: false | ('log' | 'error' | 'warn')[];
  orchestration?: Type | DynamicModule;
}

export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config, options.orchestration), { bodyParser: false, logger: options.logger ?? ['log', 'error', 'warn'] });
  app.use(bodyParserByCaller(app.get(AuthService)));
  app.use(payloadTooLarge);
  mountConsole(app);
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
