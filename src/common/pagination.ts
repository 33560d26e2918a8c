import { InputError } from './errors';
import { UUID } from './ids';

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
export type CreatedCursor = [string, string];
export const isCreatedCursor = (v: unknown): v is CreatedCursor =>
  Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string') && !Number.isNaN(Date.parse(v[0] as string)) && UUID.test(v[1] as string);
