// `npm run console:screenshots`: runs the console's browser tests (test/console/) through `npm test`'s
// bootstrap with LETHE_CONSOLE_SCREENSHOTS set, so the screens they pass through on the whole stack are
// written to docs/console/ as PNGs. A few minutes on 2 cores: two requests train on the tiny LLaVA.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { ROOT } = require('./lib/bootstrap.cjs');

const out = path.join(ROOT, 'docs', 'console');
const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'test.cjs'), '--only', 'ts', `${path.sep}test${path.sep}console${path.sep}`], {
  stdio: 'inherit',
  cwd: ROOT,
  env: { ...process.env, LETHE_CONSOLE_SCREENSHOTS: out },
});
if (r.status === 0) process.stderr.write(`[lethe] console screenshots in ${path.relative(process.cwd(), out) || out}\n`);
process.exit(r.status ?? 1);
