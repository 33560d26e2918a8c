import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Db, one, sql } from '../../database/sql';
import { Principal, Role } from '../domain/principal';

interface TokenRow {
  id: string;
  role: Role;
  owner: string;
}

@Injectable()
export class ApiTokenRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Db, tokenSha256: string, role: Role, owner: string): Promise<Principal> {
    const { rows } = await sql<TokenRow>(tx, 'INSERT INTO api_tokens (token_sha256, role, owner) VALUES ($1, $2, $3) RETURNING id, role, owner', [tokenSha256, role, owner]);
    return { tokenId: rows[0].id, role: rows[0].role, owner: rows[0].owner };
  }

  async findActive(tokenSha256: string): Promise<Principal | null> {
    const row = await one<TokenRow>(this.dataSource.manager, 'SELECT id, role, owner FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL', [tokenSha256]);
    return row ? { tokenId: row.id, role: row.role, owner: row.owner } : null;
  }

  async count(): Promise<number> {
    const row = await one<{ n: string }>(this.dataSource.manager, 'SELECT count(*) AS n FROM api_tokens');
    return Number(row!.n);
  }
}
