import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './api/auth.guard';
import { AuthResolver } from './api/auth.resolver';
import { AuthService } from './auth.service';
import { ApiTokenRepository } from './persistence/api-token.repository';

@Global()
@Module({
  providers: [ApiTokenRepository, AuthService, AuthResolver, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthService],
})
export class AuthModule {}
