// Lists the import edges between the top-level folders of src/ (features and shared pieces) and
// any cycle among them: `node scripts/feature-cycles.cjs [-v]` (-v names each importing file).
// Exits 1 when there is a cycle. Reads the sources as text; relative imports only.
const fs = require('node:fs');
const path = require('node:path');

const SRC = path.resolve(__dirname, '..', 'src');
const verbose = process.argv.includes('-v');

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const folderOf = (file) => path.relative(SRC, file).split(path.sep)[0];
const edges = new Map(); // from -> (to -> [file])
for (const file of sources(SRC)) {
  const from = folderOf(file);
  if (from.endsWith('.ts')) continue; // src/*.ts compose the app
  for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
    const target = path.resolve(path.dirname(file), spec);
    if (path.relative(SRC, target).startsWith('..')) continue;
    const to = folderOf(target);
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    const files = edges.get(from).get(to) ?? [];
    files.push(`${path.relative(SRC, file)} -> ${spec}`);
    edges.get(from).set(to, files);
  }
}

for (const [from, tos] of [...edges].sort()) {
  for (const [to, files] of [...tos].sort()) {
    console.log(`${from} -> ${to} (${files.length})`);
    if (verbose) for (const f of files) console.log(`    ${f}`);
  }
}

// Every elementary cycle once, starting at its alphabetically first folder.
const cycles = [];
function walk(start, node, trail) {
  for (const next of edges.get(node)?.keys() ?? []) {
    if (next === start) cycles.push([...trail, start]);
    else if (next > start && !trail.includes(next)) walk(start, next, [...trail, next]);
  }
}
for (const start of [...edges.keys()].sort()) walk(start, start, [start]);
for (const cycle of cycles) console.log(`CYCLE ${cycle.join(' -> ')}`);
console.log(cycles.length ? `${cycles.length} cycle(s)` : 'no cycles');
process.exitCode = cycles.length ? 1 : 0;
