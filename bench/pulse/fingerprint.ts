import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
// The bootstrap's own hash (plain Node, it runs before anything is compiled), so there is one way to key a cache on files.
const { hashFiles } = require(path.join(ROOT, 'scripts', 'lib', 'file-hash.cjs')) as {
  hashFiles: (paths: string[], options: { root: string; part?: (file: string, stat: fs.Stats) => string | Buffer }) => string;
};

/** Cached adapters and exports never outlive the model they came from. Its files are too big to read on every run, so size and time stand for their bytes, and where it lies is part of what it is. */
export function modelFingerprint(dirs: string[]): string {
  return hashFiles(dirs.map((d) => fs.realpathSync(d)), { root: '/', part: (_, st) => `${st.size}\0${st.mtimeMs}\n` });
}

/** The worker reuses an adapter for the same input, so an adapter trained by other code would report what that code did: key them on the code's bytes, wherever the checkout is. */
export function trainingCodeFingerprint(dir: string): string {
  const real = fs.realpathSync(dir);
  return hashFiles([real], { root: real });
}
