import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthError, InputError } from '../common/errors';
import { sha256Hex } from '../common/crypto';
import { APP_CONFIG, AppConfig } from '../config/config';
import { EventLog } from '../events/event-log.service';
import { Principal, ROLES, Role, TOKEN_PREFIX } from './domain/principal';
import { ApiTokenRepository } from './persistence/api-token.repository';

@Injectable()
export class AuthService {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: ApiTokenRepository,
    private readonly eventLog: EventLog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Only the sha256 of a token is stored; the plain token is returned to the caller once. */
  async issueToken(role: Role, owner: string, actor: string): Promise<{ token: string; principal: Principal }> {
    if (!ROLES.includes(role)) throw new InputError('role', `must be one of ${ROLES.join(', ')}`);
    const trimmed = owner.trim();
    if (trimmed.length === 0 || trimmed.length > 200) throw new InputError('owner', 'must be 1 to 200 characters');
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const principal = await this.dataSource.transaction(async (tx) => {
      const created = await this.tokens.insert(tx, sha256Hex(token), role, trimmed);
      await this.eventLog.append(tx, { actor, type: 'token.created', entityType: 'token', entityId: created.tokenId, data: { role, owner: trimmed } });
      return created;
    });
    return { token, principal };
  }

  /** Resolves an `Authorization: Bearer <token>` header. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new AuthError('UNAUTHENTICATED', 'an Authorization: Bearer <token> header is required');
    const principal = await this.tokens.findActive(sha256Hex(match[1]));
    if (!principal) throw new AuthError('UNAUTHENTICATED', 'the bearer token is unknown or revoked');
    return principal;
  }

  /**
   * First start: with no token at all nobody could call the API, so create an operator token,
   * write it to the data dir (mode 600) and print it once.
   */
  async ensureBootstrapOperatorToken(): Promise<void> {
    if ((await this.tokens.count()) > 0) return;
    const { token } = await this.issueToken('OPERATOR', 'bootstrap-operator', 'system');
    const file = this.config.operatorTokenFile;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, token + '\n', { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    this.logger.log(`created the first operator token (also written to ${file}): ${token}`);
  }
}

