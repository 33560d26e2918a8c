import type { EntityManager } from 'typeorm';

/** The connection or the transaction a repository call runs in. */
export type Db = EntityManager;

export interface SqlResult<T> {
  rows: T[];
  /** Rows inserted, updated or deleted. */
  count: number;
}

/**
 * Runs one statement and returns rows and affected count in one shape, whatever the command
 * (TypeORM's plain `query()` returns `[rows, count]` for UPDATE/DELETE but `rows` otherwise).
 */
export async function sql<T = Record<string, unknown>>(db: Db, text: string, params: unknown[] = []): Promise<SqlResult<T>> {
  const runner = db.queryRunner ?? db.connection.createQueryRunner();
  try {
    const result = await runner.query(text, params, true);
    return { rows: (result.records ?? []) as T[], count: result.affected ?? 0 };
  } finally {
    if (!db.queryRunner) await runner.release();
  }
}

export async function one<T = Record<string, unknown>>(db: Db, text: string, params: unknown[] = []): Promise<T | null> {
  const { rows } = await sql<T>(db, text, params);
  return rows[0] ?? null;
}
