// One way to key a cache on files, for the bootstrap (which runs before node_modules exists, so
// Node built-ins only) and for the PULSE benchmark's adapter cache (bench/pulse/fingerprint.ts).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

/**
 * 16 hex digits of a sha256 over the files under `paths`, in name order, each named relative to
 * `root` (so two clones of the same code agree) and counted by `part`: its bytes unless told.
 * Python's bytecode caches and missing paths count for nothing.
 */
function hashFiles(paths, { root, part = (file) => fs.readFileSync(file) }) {
  const h = crypto.createHash('sha256');
  const visit = (p) => {
    if (!fs.existsSync(p)) return;
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p).sort()) if (name !== '__pycache__') visit(path.join(p, name));
    } else {
      h.update(path.relative(root, p));
      h.update(part(p, st));
    }
  };
  paths.forEach(visit);
  return h.digest('hex').slice(0, 16);
}

module.exports = { hashFiles };
