import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { Db, one, sql } from '../../database/sql';
import { ApiToken, Principal, Role } from '../domain/principal';

interface TokenRow {
  id: string;
  role: Role;
  owner: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

/** The channel the api_tokens trigger notifies (migrations: api_tokens_notify_change) with the changed token's id. */
const TOKEN_CHANGED_CHANNEL = 'lethe_api_token_changed';
/** How soon a lost listener connects again. */
const RELISTEN_MS = 1000;

/** The part of node-postgres's Client that listening uses (the module TypeORM loaded; it ships no types). */
interface ListeningClient {
  connect(): Promise<void>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  on(event: 'end', listener: () => void): void;
}

/** What the listener reports: a changed token's id, or `null` when changes may have been missed (connection lost or just made). */
export type TokenChangeListener = (tokenId: string | null) => void;

const COLUMNS = 'id, role, owner, created_at, last_used_at, expires_at, revoked_at';

function toToken(row: TokenRow): ApiToken {
  return { id: row.id, role: row.role, owner: row.owner, createdAt: row.created_at, lastUsedAt: row.last_used_at, expiresAt: row.expires_at, revokedAt: row.revoked_at };
}

@Injectable()
export class ApiTokenRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Db, tokenSha256: string, role: Role, owner: string, expiresAt: Date | null): Promise<ApiToken> {
    const { rows } = await sql<TokenRow>(tx, `INSERT INTO api_tokens (token_sha256, role, owner, expires_at) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`, [tokenSha256, role, owner, expiresAt]);
    return toToken(rows[0]);
  }

  /**
   * The principal of a token that is neither revoked nor expired, and its expiry. Notes the use at
   * most once a minute per token, in the same statement, so authentication stays one round trip.
   */
  async findActive(tokenSha256: string): Promise<{ principal: Principal; expiresAt: Date | null } | null> {
    const row = await one<Pick<TokenRow, 'id' | 'role' | 'owner' | 'expires_at'>>(
      this.dataSource.manager,
      `WITH active AS (
         SELECT id, role, owner, expires_at, last_used_at FROM api_tokens
          WHERE token_sha256 = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())),
       noted AS (
         UPDATE api_tokens t SET last_used_at = now() FROM active
          WHERE t.id = active.id AND (active.last_used_at IS NULL OR active.last_used_at < now() - interval '1 minute'))
       SELECT id, role, owner, expires_at FROM active`,
      [tokenSha256],
    );
    return row ? { principal: { tokenId: row.id, role: row.role, owner: row.owner }, expiresAt: row.expires_at } : null;
  }

  /**
   * Calls `onChange` with the id of every token that changes (any process, any writer: a trigger
   * notifies), over a connection of its own, connected again when lost. Resolves once listening;
   * the returned function stops it.
   */
  async listenForChanges(onChange: TokenChangeListener, onError: (err: Error) => void): Promise<() => Promise<void>> {
    const url = (this.dataSource.options as { url?: string }).url;
    const pg = (this.dataSource.driver as PostgresDriver).postgres as { Client: new (config: { connectionString?: string; application_name: string }) => ListeningClient };
    let client: ListeningClient | null = null;
    let stopped = false;
    let retry: NodeJS.Timeout | null = null;
    const connect = async (): Promise<void> => {
      const next = new pg.Client({ connectionString: url, application_name: 'lethe-token-listener' });
      next.on('notification', (message) => {
        if (message.channel === TOKEN_CHANGED_CHANNEL && message.payload) onChange(message.payload);
      });
      next.on('error', (err) => onError(err));
      next.on('end', () => {
        if (client !== next || stopped) return;
        client = null;
        onChange(null);
        retry = setTimeout(() => void connect().catch(onError), RELISTEN_MS);
      });
      try {
        await next.connect();
        await next.query(`LISTEN ${TOKEN_CHANGED_CHANNEL}`);
      } catch (err) {
        await next.end().catch(() => {});
        if (!stopped) retry = setTimeout(() => void connect().catch(onError), RELISTEN_MS);
        throw err;
      }
      if (stopped) return void (await next.end());
      client = next;
      // Whatever changed while nobody listened is unknown.
      onChange(null);
    };
    await connect();
    return async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      const last = client;
      client = null;
      await last?.end();
    };
  }

  async find(id: string, db: Db = this.dataSource.manager): Promise<ApiToken | null> {
    const row = await one<TokenRow>(db, `SELECT ${COLUMNS} FROM api_tokens WHERE id = $1`, [id]);
    return row && toToken(row);
  }

  /** Revokes a live token; null when it was already revoked (or does not exist). */
  async revoke(tx: Db, id: string): Promise<ApiToken | null> {
    const { rows } = await sql<TokenRow>(tx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`, [id]);
    return rows[0] ? toToken(rows[0]) : null;
  }

  /** Keyset page, oldest first; keyed to the millisecond because cursors carry JavaScript dates. */
  async page(first: number, after: { createdAt: Date; id: string } | null): Promise<ApiToken[]> {
    const { rows } = await sql<TokenRow>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM api_tokens
        WHERE $1::timestamptz IS NULL OR (date_trunc('milliseconds', created_at), id) > ($1::timestamptz, $2::uuid)
        ORDER BY date_trunc('milliseconds', created_at), id LIMIT $3`,
      [after?.createdAt ?? null, after?.id ?? null, first],
    );
    return rows.map(toToken);
  }

  async count(): Promise<number> {
    const row = await one<{ n: string }>(this.dataSource.manager, 'SELECT count(*) AS n FROM api_tokens');
    return Number(row!.n);
  }
}
