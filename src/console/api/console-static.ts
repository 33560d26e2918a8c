// The web console (console/ at the repository root, built by the bootstrap into dist/console) served
// from the API process under /console. Only public files: the HTML and scripts carry no data, and
// every piece of data the console shows comes through /graphql with the user's bearer token.
import fs from 'node:fs';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';

export const CONSOLE_PATH = '/console';

/** Where scripts/lib/bootstrap.cjs (ensureConsole) writes the build; this file runs from dist/src/console/api/. */
export const CONSOLE_BUILD_DIR = path.resolve(__dirname, '..', '..', '..', 'console');

/**
 * Scripts and styles from this origin only, data from /graphql only, images from uploads previewed in the page
 * (data: and blob: URLs), and no framing: a page that holds a bearer token must not load third-party code.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
}

/** Without a build (a checkout that never ran the bootstrap) the route says how to get one instead of a bare 404. */
function notBuilt(_req: Request, res: Response): void {
  res.status(503).type('text/plain').send('The console is not built: run `npm run build` (or `npm run up`, which builds it).\n');
}

export function mountConsole(app: INestApplication, dir = CONSOLE_BUILD_DIR): void {
  const built = fs.existsSync(path.join(dir, 'index.html'));
  // Hashed asset names change with every build, so they may be cached for good; index.html must be revalidated.
  const files = express.static(dir, {
    index: 'index.html',
    redirect: true,
    setHeaders: (res, file) => res.setHeader('Cache-Control', file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable'),
  });
  app.use(CONSOLE_PATH, securityHeaders, built ? files : notBuilt);
}
