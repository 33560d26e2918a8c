import { InputError } from './errors';
import { UUID } from './ids';
import type { Connection } from './page-info.model';

export const MAX_PAGE_SIZE = 100;

export function pageSize(first: number | null | undefined, field = 'first'): number {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) throw new InputError(field, `must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  return size;
}

/** Opaque cursors: base64url of a JSON position. */
export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | null | undefined, check: (value: unknown) => value is T, field = 'after'): T | null {
  if (cursor == null) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (check(value)) return value;
  } catch {
    // fall through to the error below
  }
  throw new InputError(field, 'is not a cursor returned by this API');
}

/** A (createdAt ISO time, uuid) position: the cursor of lists ordered by creation. */
type CreatedCursor = [string, string];
const isCreatedCursor = (v: unknown): v is CreatedCursor =>
  Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string') && !Number.isNaN(Date.parse(v[0] as string)) && UUID.test(v[1] as string);

/**
 * One page of a list ordered by (createdAt, id): checks `first` and `after`, reads one row more
 * than asked to know whether another page follows, and names each edge by its position.
 */
export async function pageByCreation<T extends { createdAt: Date; id: string }, N>(
  first: number | null | undefined,
  after: string | null | undefined,
  read: (limit: number, after: { createdAt: Date; id: string } | null) => Promise<T[]>,
  count: () => Promise<number>,
  toNode: (row: T) => N,
): Promise<Connection<N>> {
  const size = pageSize(first);
  const position = decodeCursor(after, isCreatedCursor);
  const [rows, totalCount] = await Promise.all([read(size + 1, position && { createdAt: new Date(position[0]), id: position[1] }), count()]);
  const edges = rows.slice(0, size).map((row) => ({ cursor: encodeCursor([row.createdAt.toISOString(), row.id]), node: toNode(row) }));
  return { edges, totalCount, pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null } };
}
