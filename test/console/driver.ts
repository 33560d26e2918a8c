// Drives the web console in Debian's Chromium as a person would: signs in with a token, follows links,
// fills labelled fields. Shared by the console's browser tests; with LETHE_CONSOLE_SCREENSHOTS=<dir>
// (`npm run console:screenshots`) the screens they pass through are saved there as PNGs.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { GqlClient } from '../support/gql';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** A new tab on the console, signed in with `token` through the sign-in form. */
export async function signIn(browser: Browser, baseUrl: string, token: string, viewport = DESKTOP): Promise<Page> {
  const page = await browser.newPage({ viewport, acceptDownloads: true });
  await page.goto(`${baseUrl}/console/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return page;
}

export async function issueToken(operator: GqlClient, role: 'REQUESTER' | 'AUDITOR' | 'OPERATOR', owner: string): Promise<string> {
  const data = await operator.ok<{ createApiToken: { token: string } }>('mutation ($role: Role!, $owner: String!) { createApiToken(role: $role, owner: $owner) { token } }', { role, owner });
  return data.createApiToken.token;
}

/** The error shown beside a labelled control (its aria-describedby). */
export async function errorBeside(page: Page, label: string | RegExp): Promise<string> {
  const control = page.getByLabel(label, { exact: typeof label === 'string' });
  const ids = ((await control.getAttribute('aria-describedby')) ?? '').split(' ').filter((id) => id.endsWith('-error'));
  if (ids.length === 0) return '';
  return (await page.locator(`[id="${ids[0]}"]`).textContent()) ?? '';
}

/** Reads until `done` holds of the reading (a screen that replaces an earlier answer), or 10 s pass; returns the last reading. */
export async function readUntil<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Saves the page as docs/console/<name>.png when screenshots are asked for. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.LETHE_CONSOLE_SCREENSHOTS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}
