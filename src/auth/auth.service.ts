import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppError, AuthError, InputError } from '../common/errors';
import { sha256Hex } from '../common/crypto';
import { APP_CONFIG, AppConfig } from '../config/config';
import { EventLog } from '../events/event-log.service';
import { ApiToken, MAX_TOKEN_DAYS, Principal, ROLES, Role, TOKEN_PREFIX } from './domain/principal';
import { PrincipalCache } from './domain/principal-cache';
import { ApiTokenRepository } from './persistence/api-token.repository';
import { UUID } from '../common/ids';


@Injectable()
export class AuthService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Auth');
  /** Every call authenticates: most find their token here, without a round trip to the database. */
  private readonly principals = new PrincipalCache();
  private stopListening: (() => Promise<void>) | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: ApiTokenRepository,
    private readonly eventLog: EventLog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Keeps the cache true to the database: a token changed by any process is evicted at once. */
  async onModuleInit(): Promise<void> {
    this.stopListening = await this.tokens.listenForChanges(
      (tokenId) => (tokenId === null ? this.principals.clear() : this.principals.forgetToken(tokenId)),
      (err) => this.logger.warn(`token change listener: ${err.message}; cached tokens are believed for at most a second meanwhile`),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stopListening?.();
  }

  /** Only the sha256 of a token is stored; the plain token is returned to the caller once. */
  async issueToken(role: Role, owner: string, actor: string, expiresInDays: number | null = null): Promise<{ token: string; issued: ApiToken }> {
    if (!ROLES.includes(role)) throw new InputError('role', `must be one of ${ROLES.join(', ')}`);
    const trimmed = owner.trim();
    if (trimmed.length === 0 || trimmed.length > 200) throw new InputError('owner', 'must be 1 to 200 characters');
    if (expiresInDays !== null && (!Number.isInteger(expiresInDays) || expiresInDays < 1 || expiresInDays > MAX_TOKEN_DAYS)) {
      throw new InputError('expiresInDays', `must be a whole number of days from 1 to ${MAX_TOKEN_DAYS}`);
    }
    const expiresAt = expiresInDays === null ? null : new Date(Date.now() + expiresInDays * 24 * 3600 * 1000);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const issued = await this.dataSource.transaction(async (tx) => {
      const created = await this.tokens.insert(tx, sha256Hex(token), role, trimmed, expiresAt);
      await this.eventLog.append(tx, { actor, type: 'token.created', entityType: 'token', entityId: created.id, data: { role, owner: trimmed, expiresAt: expiresAt?.toISOString() ?? null } });
      return created;
    });
    return { token, issued };
  }

  /** Refused from the next call on. Revoking a revoked token changes nothing and logs nothing. */
  async revokeToken(id: string, actor: string): Promise<ApiToken> {
    const notFound = new AppError('NOT_FOUND', `no API token ${id}`, 'id');
    if (!UUID.test(id)) throw notFound;
    return this.dataSource.transaction(async (tx) => {
      const revoked = await this.tokens.revoke(tx, id);
      if (!revoked) {
        const existing = await this.tokens.find(id, tx);
        if (!existing) throw notFound;
        return existing;
      }
      await this.eventLog.append(tx, { actor, type: 'token.revoked', entityType: 'token', entityId: id, data: { role: revoked.role, owner: revoked.owner } });
      return revoked;
    }).finally(() => {
      // This process's next call must not wait for the notification to come back.
      this.principals.forgetToken(id);
    });
  }

  listTokens(first: number, after: { createdAt: Date; id: string } | null): Promise<ApiToken[]> {
    return this.tokens.page(first, after);
  }

  countTokens(): Promise<number> {
    return this.tokens.count();
  }

  /** Resolves an `Authorization: Bearer <token>` header. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new AuthError('UNAUTHENTICATED', 'an Authorization: Bearer <token> header is required');
    const hash = sha256Hex(match[1]);
    const cached = this.principals.get(hash);
    if (cached) return cached;
    const found = await this.tokens.findActive(hash);
    if (!found) throw new AuthError('UNAUTHENTICATED', 'the bearer token is unknown, revoked or expired');
    this.principals.set(hash, found.principal, found.expiresAt);
    return found.principal;
  }

  /**
   * First start: with no token at all nobody could call the API, so create an operator token and
   * write it to the data dir (mode 600). The log says where it is, never the token: logs travel
   * further than the data dir.
   */
  async ensureBootstrapOperatorToken(): Promise<void> {
    if ((await this.tokens.count()) > 0) return;
    const { token } = await this.issueToken('OPERATOR', 'bootstrap-operator', 'system');
    const file = this.config.operatorTokenFile;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, token + '\n', { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    this.logger.log(`created the first operator token: read it from ${file} (mode 600)`);
  }
}

