import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../common/errors';

/** The real path of `target`, or of its nearest existing ancestor joined with the rest (a path that does not exist yet). */
function realPath(target: string): string {
  const rest: string[] = [];
  for (let at = path.resolve(target); ; at = path.dirname(at)) {
    try {
      return path.join(fs.realpathSync.native(at), ...rest.reverse());
    } catch {
      if (at === path.dirname(at)) return path.resolve(target);
      rest.push(path.basename(at));
    }
  }
}

function isWithin(target: string, root: string): boolean {
  const relative = path.relative(root, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Confines a client-given model or dataset path to the configured roots, symbolic links resolved, so
 * that a lineage cannot make the workers read (or the API probe) arbitrary files. The error is the same
 * whether or not the path exists, and names the setting rather than any path outside the roots.
 * Returns the resolved path.
 */
export function confineToRoots(requested: string, roots: readonly string[], field: string, rootsVariable: string): string {
  const resolved = path.resolve(requested);
  const real = realPath(resolved);
  if (!roots.some((root) => isWithin(real, realPath(root)))) {
    throw new InputError(field, `must be a directory under one of the roots configured in ${rootsVariable}`);
  }
  return resolved;
}
