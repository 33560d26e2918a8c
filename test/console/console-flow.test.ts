// The web console on the whole stack (`npm run up`'s processes: embedded Postgres, Temporal, API, workers, the tiny
// LLaVA), driven in Debian's Chromium: a privacy officer files a request and follows it to COMPLETED without
// reloading and exports its report; another requester cannot see it; an operator approves a candidate the gate held
// for review, rolls the lineage back with the reopened request named before it runs, and sees it reopened.
// While a request trains or is audited, its page shows the step of total from the running activity's heartbeat.
// Two trainings in all: the lineage trains two steps a version and its gate promotes whatever it can measure
// (ALWAYS_PROMOTE_GATE_POLICY), so the screens, not forgetting quality, decide the outcome here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ALWAYS_PROMOTE_GATE_POLICY, createLineage, startE2eStack, STACK_START_HOOK_TIMEOUT_MS, waitForFinal, type E2eStack } from '../e2e/harness';
import { launchChromium } from '../support/chromium';
import { DESKTOP, errorBeside, issueToken, PHONE, screenshot, signIn } from './driver';

const lineage = 'console';
const REQUEST_TIMEOUT_MS = 12 * 60_000;

/** Files a request through the form and returns its id (the console opens the new request's page). */
async function fileRequest(page: Page, fill: () => Promise<void>): Promise<string> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'File a request' }).click();
  await page.getByLabel('Lineage (the model)').fill(lineage);
  await fill();
  await page.getByRole('button', { name: 'File the request' }).click();
  await page.waitForURL(/#\/requests\/[0-9a-f-]{36}$/);
  return decodeURIComponent(new URL(page.url()).hash.split('/').pop()!);
}

describe('web console on the whole stack', { timeout: 40 * 60_000 }, () => {
  let e2e: E2eStack;
  let browser: Browser;
  let alice: string;
  let bob: string;
  let auditor: string;
  let completedId: string;

  before(async () => {
    e2e = await startE2eStack(lineage);
    // CUMULATIVE keeps an inline profile's forget set after completion (a SEQUENTIAL lineage purges it, and then
    // refuses a rollback that would have to unlearn it again), so the rollback below can reopen one.
    await createLineage(e2e.gql, lineage, { strategy: 'CUMULATIVE', gatePolicy: ALWAYS_PROMOTE_GATE_POLICY, experimental: { maxSteps: 2 } });
    alice = await issueToken(e2e.gql, 'REQUESTER', 'alice@example.org');
    bob = await issueToken(e2e.gql, 'REQUESTER', 'bob@example.org');
    auditor = await issueToken(e2e.gql, 'AUDITOR', 'audit-office');
    browser = await launchChromium();
  }, { timeout: STACK_START_HOOK_TIMEOUT_MS });
  after(async () => {
    await browser?.close();
    await e2e?.stop();
  });

  it('a privacy officer files a request, watches its phases to COMPLETED without reloading, and exports its report', async () => {
    const page = await signIn(browser, e2e.stack.baseUrl, alice);
    completedId = await fileRequest(page, async () => {
      // The picker asks the API (datasetSubjects with a search, as a REQUESTER may).
      await page.getByLabel('Search people').fill('p001');
      await page.getByLabel('Person', { exact: true }).selectOption('p001');
    });
    // A page reload would drop this marker: the phases below arrive by polling.
    await page.evaluate('window.__sameDocument = true');
    const seen = new Set<string>();
    const deadline = Date.now() + REQUEST_TIMEOUT_MS;
    for (;;) {
      const phase = await page.locator('.phases li[aria-current="step"]').textContent({ timeout: 5000 }).catch(() => null);
      const status = await page.locator('.progress .status').first().textContent();
      if (phase) seen.add(phase);
      const [stepLine] = await page.locator('.step-line').allTextContents();
      if (stepLine && /(step|question) \d+ of \d+/.test(stepLine)) seen.add(`heartbeat: ${stepLine}`);
      if (status && status !== 'UNLEARNING' && status !== 'AUDITING' && status !== 'QUEUED' && status !== 'RECEIVED') {
        assert.equal(status, 'COMPLETED', `the request ended ${status}: ${await page.locator('.progress').textContent()}`);
        break;
      }
      if (stepLine?.startsWith('Training') && !seen.has('shot')) await screenshot(page, 'request-in-progress').then(() => seen.add('shot'));
      assert.ok(Date.now() < deadline, `not COMPLETED within ${REQUEST_TIMEOUT_MS} ms; phases seen ${[...seen]}`);
      await page.waitForTimeout(500);
    }
    assert.ok(seen.has('UNLEARNING') || seen.has('AUDITING'), `the page showed the work in progress: ${[...seen]}`);
    // The step of total comes from the running activity's heartbeat (training steps, or the audit's questions).
    assert.ok([...seen].some((s) => s.startsWith('heartbeat: ')), `the page showed a heartbeat's count: ${[...seen]}`);
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'no reload');

    const report = page.getByRole('region', { name: 'Compliance report' });
    await report.waitFor();
    assert.match(await report.textContent() ?? '', /Version 1 \(attempt 1\), gate decision PASS/);
    assert.match(await page.locator('.facts').textContent() ?? '', /version 1\s*PROMOTED/);
    assert.match(await page.getByRole('region', { name: 'Timeline' }).textContent() ?? '', /AUDITING → COMPLETED/);
    await screenshot(page, 'request-completed');
    const [download] = await Promise.all([page.waitForEvent('download'), report.getByRole('button', { name: 'Export report as JSON' }).click()]);
    const exported = JSON.parse(fs.readFileSync((await download.path())!, 'utf8')) as { request: { id: string }; versionNumber: number; signature: unknown };
    assert.equal(exported.request.id, completedId);
    assert.equal(exported.versionNumber, 1);
    assert.ok(exported.signature, 'the exported report is the signed one');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Requests' }).click();
    await page.locator(`tr[data-request-id="${completedId}"]`).getByText('COMPLETED').waitFor();
    await screenshot(page, 'requests');
    await page.close();
  });

  it('another requester sees neither the request nor its report', async () => {
    const page = await signIn(browser, e2e.stack.baseUrl, bob, PHONE);
    await page.getByText('No requests.').waitFor();
    await page.goto(`${e2e.stack.baseUrl}/console/#/requests/${completedId}`);
    assert.match(await page.getByRole('alert').textContent() ?? '', /FORBIDDEN/);
    assert.equal(await page.getByRole('region', { name: 'Compliance report' }).count(), 0);
    await page.close();
  });

  it('an operator approves a candidate the gate held, rolls the lineage back naming the request it reopens, and sees it reopened', async () => {
    // A person described by facts alone: the audit has no image question to answer, so the gate cannot decide (REVIEW).
    const officer = await signIn(browser, e2e.stack.baseUrl, alice);
    const heldId = await fileRequest(officer, async () => {
      await officer.getByLabel('A person described here').check();
      await officer.getByLabel('Name', { exact: true }).fill('Yrsa Quellhaven');
      const facts: Array<[string, string]> = [
        ["What is Yrsa Quellhaven's occupation?", 'lighthouse keeper'],
        ['Where was Yrsa Quellhaven born?', 'North Emberly'],
        ["What is Yrsa Quellhaven's favourite hobby?", 'night kayaking'],
      ];
      for (const [i, [question, answer]] of facts.entries()) {
        if (i > 0) await officer.getByRole('button', { name: 'Add a fact' }).click();
        await officer.getByLabel(`Question ${i + 1}`).fill(question);
        await officer.getByLabel(`Answer ${i + 1}`).fill(answer);
      }
      // The service refuses a file that is not an image; its message stands beside the field until the image goes.
      await officer.getByLabel('Images (PNG or JPEG)').setInputFiles({ name: 'scan.png', mimeType: 'image/png', buffer: Buffer.from('not an image') });
      await officer.getByRole('button', { name: 'File the request' }).click();
      await officer.locator('.field-error').first().waitFor();
      assert.match(await errorBeside(officer, 'Images (PNG or JPEG)'), /images\[0\]: is not a PNG or JPEG image \(BAD_USER_INPUT\)/);
      await screenshot(officer, 'file-request-error');
      await officer.getByRole('button', { name: 'Remove image scan.png' }).click();
    });
    await officer.close();
    const held = await waitForFinal(e2e.gql, heldId, REQUEST_TIMEOUT_MS);
    assert.equal(held.status, 'NEEDS_REVIEW', `held for review: ${held.statusReason}`);

    const page = await signIn(browser, e2e.stack.baseUrl, e2e.gql.token!);
    await page.getByRole('link', { name: 'Review queue' }).click();
    const item = page.locator(`article[data-request-id="${heldId}"]`);
    await item.waitFor();
    const reasons = await item.locator('.reasons').textContent();
    assert.ok(reasons && reasons.length > 0, 'the audit\'s reasons are in view');
    assert.match(reasons!, /multimodal/, `the reasons say what the gate lacked: ${reasons}`);
    await screenshot(page, 'review-queue');
    await item.getByLabel('Reason for the decision').fill('no portrait was supplied; the text-only probes show the person forgotten');
    await item.getByRole('button', { name: 'Approve and promote' }).click();
    const approved = await waitForFinal(e2e.gql, heldId, 5 * 60_000, (r) => r.status === 'COMPLETED' || r.status === 'FAILED');
    assert.equal(approved.status, 'COMPLETED', approved.statusReason ?? '');
    assert.equal(approved.modelVersion?.number, 2);

    await page.getByRole('link', { name: 'Lineages' }).click();
    await page.getByRole('link', { name: lineage, exact: true }).click();
    const champion = page.locator('.version.champion');
    await champion.getByText('version 2').waitFor();
    assert.equal(await page.locator('[data-version]').count(), 3, 'versions 0, 1 and 2 in the tree');
    assert.equal(await page.locator('.tree > li[data-version]').count(), 3, 'cumulative retrains record no parent: three roots');
    await page.getByRole('img', { name: 'Sustainability curve' }).waitFor();
    assert.ok(await page.locator('.chart polyline').count() >= 1);
    await page.getByLabel('Restore version').selectOption('1');
    await page.getByLabel('Reason for the rollback').fill('drill: restore the version before the approved candidate');
    await page.getByRole('button', { name: 'Roll back…' }).click();
    const confirm = page.getByRole('alertdialog');
    assert.match(await confirm.textContent() ?? '', /Versions 2 become ROLLED_BACK/);
    assert.deepEqual(await confirm.locator('.reopened li').allTextContents(), [heldId]);
    await screenshot(page, 'lineage-rollback');
    await confirm.getByRole('button', { name: 'Confirm rollback' }).click();
    // The rollback waits for the lineage's workflow: the answer, or the API's refusal, shows in the form.
    const rollback = page.getByRole('form', { name: 'Roll back' });
    const outcome = rollback.locator('.ok, .field-error, .error').first();
    await outcome.waitFor({ timeout: 120_000 });
    assert.equal(await outcome.textContent(), 'Rolled back to version 1; reopened 1 request(s).');
    await page.locator('[data-version="2"]').getByText('ROLLED BACK').first().waitFor();

    await page.goto(`${e2e.stack.baseUrl}/console/#/requests/${heldId}`);
    await page.getByRole('region', { name: 'Timeline' }).getByText(/COMPLETED → REOPENED/).waitFor();
    assert.match(await page.getByRole('region', { name: 'Timeline' }).textContent() ?? '', /rollback to version 1: drill/);
    await screenshot(page, 'request-reopened');
    await page.close();

    const audit = await signIn(browser, e2e.stack.baseUrl, auditor, PHONE);
    await audit.getByRole('link', { name: 'Event log' }).click();
    await audit.getByRole('button', { name: 'Verify the event chain' }).click();
    assert.match(await audit.getByRole('status').textContent() ?? '', /Valid: \d+ events verified/);
    await screenshot(audit, 'event-log');
    await audit.setViewportSize(DESKTOP);
    await audit.goto(`${e2e.stack.baseUrl}/console/#/lineages/${lineage}`);
    await audit.getByRole('img', { name: 'Sustainability curve' }).waitFor();
    await screenshot(audit, 'lineage-auditor');
    await audit.close();
  });
});
