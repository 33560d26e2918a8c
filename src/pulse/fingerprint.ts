import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A fingerprint of the files under `dirs` (not __pycache__), each counted by `part`. */
function fingerprint(dirs: string[], part: (file: string, stat: fs.Stats) => string | Buffer): string {
  const h = crypto.createHash('sha256');
  const visit = (p: string) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p).sort()) if (name !== '__pycache__') visit(path.join(p, name));
    } else {
      h.update(`${p}\0`);
      h.update(part(p, st));
    }
  };
  dirs.forEach((d) => visit(fs.realpathSync(d)));
  return h.digest('hex').slice(0, 16);
}

/** Cached adapters and exports never outlive the model they came from. Its files are too big to read on every run, so size and time stand for their bytes. */
export function modelFingerprint(dirs: string[]): string {
  return fingerprint(dirs, (_, st) => `${st.size}\0${st.mtimeMs}\n`);
}

/** The worker reuses an adapter for the same input, so an adapter trained by other code would report what that code did: key them on the code's bytes. */
export function trainingCodeFingerprint(dir: string): string {
  return fingerprint([dir], (file) => fs.readFileSync(file));
}
