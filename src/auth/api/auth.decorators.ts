import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { Request } from 'express';
import type { Principal, Role } from '../domain/principal';

export const ROLES_KEY = 'lethe:roles';
export const PUBLIC_KEY = 'lethe:public';

/** Restricts a resolver or route to these roles. Without it any authenticated caller passes, except SERVING (principal.ts). */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** Opts a route out of authentication (health checks). Everything else needs a bearer token. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}

/** The HTTP request behind a GraphQL or plain HTTP call. */
export function requestOf(context: ExecutionContext): AuthenticatedRequest {
  if (context.getType<string>() === 'graphql') return GqlExecutionContext.create(context).getContext<{ req: AuthenticatedRequest }>().req;
  return context.switchToHttp().getRequest<AuthenticatedRequest>();
}

/** The authenticated caller, set by AuthGuard. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = requestOf(context).principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route that AuthGuard did not authenticate');
  return principal;
});
