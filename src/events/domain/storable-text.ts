// Postgres cannot store NUL in text or jsonb, and node-postgres encodes a lone UTF-16 surrogate
// as U+FFFD: either way the row would differ from what the event hash covered, and one client
// string could break the chain's verification for good. Such text is refused at the door.
import { InputError } from '../../common/errors';

const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/** Checks every string in a value (objects, arrays) and names the first bad one by its path. */
export function assertStorable(value: unknown, field: string): void {
  if (typeof value === 'string') {
    if (!isStorableText(value)) throw new InputError(field, 'contains a NUL character or an unpaired UTF-16 surrogate');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertStorable(item, `${field}[${i}]`));
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      assertStorable(key, field);
      assertStorable(item, `${field}.${key}`);
    }
  }
}
