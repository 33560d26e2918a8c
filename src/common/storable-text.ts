import { DocumentNode, Kind, visit } from 'graphql';

/**
 * Text Postgres cannot store as sent: NUL is refused by `text` columns, and a lone UTF-16 surrogate
 * is not Unicode (UTF-8 encoding would replace it, so the stored text would differ from what was
 * hashed or compared). Such input is refused at the door, whatever the operation.
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function problemOf(text: string): string | null {
  if (!UNSTORABLE.test(text)) return null;
  return text.includes('\u0000') ? 'must not contain NUL characters' : 'must be valid Unicode (it has a lone surrogate)';
}

/** The first string (object keys included) in a variables object that cannot be stored, as a dotted path and the problem. */
export function findUnstorableVariable(value: unknown, at: string): { field: string; problem: string } | null {
  if (typeof value === 'string') {
    const problem = problemOf(value);
    return problem ? { field: at, problem } : null;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findUnstorableVariable(item, `${at}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const keyProblem = problemOf(key);
      if (keyProblem) return { field: at, problem: `has a key that ${keyProblem}` };
      const found = findUnstorableVariable(item, at ? `${at}.${key}` : key);
      if (found) return found;
    }
  }
  return null;
}

/** The same for string literals written in the operation itself, named by the argument they are in. */
export function findUnstorableLiteral(document: DocumentNode): { field: string; problem: string } | null {
  let found: { field: string; problem: string } | null = null;
  visit(document, {
    Argument(argument) {
      visit(argument.value, {
        enter(node) {
          if (found || node.kind !== Kind.STRING) return;
          const problem = problemOf(node.value);
          if (problem) found = { field: argument.name.value, problem };
        },
      });
    },
  });
  return found;
}
