// The console's build: `node node_modules/vite/bin/vite.js build --config console/vite.config.mjs`, run by
// scripts/lib/bootstrap.cjs (ensureConsole) into dist/console, which the API serves under /console.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  // Served under /console by the API (src/console/api/console-static.ts).
  base: '/console/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: path.join(here, '..', 'dist', 'console'),
    emptyOutDir: true,
    // One origin, no CDN: everything the page needs is in the build, and no inline script (the CSP forbids it).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
});
