import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthService } from '../auth.service';
import { assertAllowed, Role } from '../domain/principal';
import { PUBLIC_KEY, requestOf, ROLES_KEY } from './auth.decorators';

/** Global guard: every resolver and route needs a valid bearer token unless marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = requestOf(context);
    // Field resolvers run once per parent: authenticate once per HTTP request.
    request.principal ??= await this.auth.authenticate(request.headers.authorization);
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    assertAllowed(request.principal, roles ?? null, `call ${context.getHandler().name}`);
    return true;
  }
}
