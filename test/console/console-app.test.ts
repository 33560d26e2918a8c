// The web console in Debian's Chromium against the real API (embedded Postgres, the real Nest app; requests are
// recorded, not run: the pipeline's screens are tested in console-flow.test.ts on the whole stack). What it checks
// needs no training: the public static route, sign-in and the screens each role gets, a requester kept out of another
// requester's request, the service's validation messages beside the field (a bad image, a bad gate policy), tokens.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { ModelVersionsService } from '../../src/lineages/model-versions.service';
import { RequestLifecycle } from '../../src/requests/request-lifecycle.service';
import { RequestOutcomes } from '../../src/requests/request-outcomes.service';
import { startTestApp, writeDataset, writeModelDir, type TestApp } from '../support/app';
import { launchChromium } from '../support/chromium';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { recordingQueueModule, RecordingQueue } from '../support/recording-queue';
import { DESKTOP, errorBeside, issueToken, PHONE, readUntil, screenshot, signIn } from './driver';

const SUBMIT = 'mutation ($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id } }';

describe('web console (real API and browser, recorded queue)', { timeout: 10 * 60_000 }, () => {
  let t: TestApp;
  let queue: RecordingQueue;
  let browser: Browser;
  let alice: string;
  let bob: string;
  let auditor: string;

  before(async () => {
    queue = new RecordingQueue();
    t = await startTestApp({ orchestration: recordingQueueModule(queue) });
    const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), [
      { id: 's1', name: 'Ada Fictional', knowledge: 'FINETUNED' },
      { id: 's2', name: 'Bo Fictional', knowledge: 'FINETUNED' },
      { id: 's3', name: 'Cy Celebrity', knowledge: 'PRETRAINED' },
      { id: 's4', name: 'Ada Neverseen', knowledge: 'NEVER_SEEN' },
    ]);
    const model = writeModelDir(path.join(t.postgres.dir, 'model'));
    for (const name of ['main', 'rb']) await t.operator.ok('mutation ($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }', { input: { name, baseModelPath: model, datasetPath: dataset } });
    alice = await issueToken(t.operator, 'REQUESTER', 'alice@example.org');
    bob = await issueToken(t.operator, 'REQUESTER', 'bob@example.org');
    auditor = await issueToken(t.operator, 'AUDITOR', 'audit-office');
    browser = await launchChromium();
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('serves the console without a token, under a policy that admits only its own scripts; data needs the token', async () => {
    const page = await fetch(`${t.baseUrl}/console/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    const html = await page.text();
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, `the page loads its bundle from /console/assets: ${html}`);
    const bundle = await fetch(`${t.baseUrl}${script}`);
    assert.equal(bundle.status, 200);
    assert.doesNotMatch(await bundle.text(), /https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}\//i, 'no third-party URL in the bundle (no CDN)');
    assert.equal((await fetch(`${t.baseUrl}/console/nothing-here.js`)).status, 404);
  });

  it('signs in with a token kept in the tab\'s session storage only, and shows the screens of its role', async () => {
    const tab = await browser.newPage({ viewport: DESKTOP });
    await tab.goto(`${t.baseUrl}/console/`);
    await tab.getByLabel('API token').fill('lethe_not-a-token');
    await tab.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await tab.getByRole('alert').first().textContent() ?? '', /UNAUTHENTICATED/);
    await screenshot(tab, 'sign-in');
    await tab.close();

    const requester = await signIn(browser, t.baseUrl, alice);
    const nav = requester.getByRole('navigation', { name: 'Main' });
    assert.deepEqual(await nav.getByRole('link').allTextContents(), ['Requests', 'File a request']);
    assert.equal(await requester.evaluate(() => sessionStorage.getItem('lethe.token')), alice);
    assert.equal(await requester.evaluate(() => localStorage.length), 0, 'nothing in local storage');
    assert.equal(await requester.evaluate('document.cookie'), '');
    // An operator's screen typed into the address bar is not shown to a requester.
    await requester.goto(`${t.baseUrl}/console/#/tokens`);
    await requester.getByRole('heading', { name: 'My deletion requests' }).waitFor();
    await requester.close();

    const audit = await signIn(browser, t.baseUrl, auditor);
    assert.deepEqual(await audit.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents(), ['Requests', 'Lineages', 'Event log']);
    await audit.getByRole('link', { name: 'Event log' }).click();
    await audit.getByRole('button', { name: 'Verify the event chain' }).click();
    assert.match(await audit.getByRole('status').textContent() ?? '', /Valid: \d+ events verified/);
    await audit.close();
  });

  it('a requester cannot see another requester\'s request, in the list or by its address', async () => {
    const { submitDeletionRequest: filed } = await t.operator.withToken(alice).ok(SUBMIT, { input: { lineage: 'main', idempotencyKey: 'alice-1', legalBasis: 'GDPR Art. 17(1)(a)', subject: { datasetSubjectId: 's1' } } });
    const own = await signIn(browser, t.baseUrl, alice);
    await own.locator(`tr[data-request-id="${filed.id}"]`).waitFor();
    await own.close();

    const other = await signIn(browser, t.baseUrl, bob, PHONE);
    await other.getByText('No requests.').waitFor();
    await other.goto(`${t.baseUrl}/console/#/requests/${filed.id}`);
    const refusal = await other.getByRole('alert').textContent();
    assert.match(refusal ?? '', /FORBIDDEN/);
    assert.doesNotMatch(await other.content(), /Ada Fictional/, 'nothing of the request reaches the page');
    await other.close();
  });

  it('a privacy officer cancels its waiting request, with the reason the API asks for', async () => {
    const { submitDeletionRequest: filed } = await t.operator.withToken(alice).ok(SUBMIT, { input: { lineage: 'main', idempotencyKey: 'alice-cancel', legalBasis: 'GDPR Art. 17(1)(a)', subject: { datasetSubjectId: 's3' } } });
    const page = await signIn(browser, t.baseUrl, alice);
    await page.goto(`${t.baseUrl}/console/#/requests/${filed.id}`);
    const form = page.getByRole('form', { name: 'Cancel this request' });
    await form.getByRole('button', { name: 'Cancel request' }).click();
    await form.locator('.field-error').waitFor();
    assert.match(await errorBeside(page, 'Reason for cancelling'), /reason.*\(BAD_USER_INPUT\)/);
    await form.getByLabel('Reason for cancelling').fill('the data subject withdrew the request');
    await form.getByRole('button', { name: 'Cancel request' }).click();
    await page.locator('.progress .status').getByText('CANCELED').waitFor();
    assert.equal(await form.count(), 0, 'a canceled request cannot be canceled again');
    assert.equal((await t.operator.ok('query ($id: ID!) { deletionRequest(id: $id) { status } }', { id: filed.id })).deletionRequest.status, 'CANCELED');
    await page.close();
  });

  it('a request in training shows the step of total from the worker\'s heartbeat, updating without a reload', async () => {
    const { submitDeletionRequest: filed } = await t.operator.withToken(alice).ok(SUBMIT, { input: { lineage: 'main', idempotencyKey: 'alice-progress', legalBasis: 'GDPR Art. 17(1)(a)', subject: { datasetSubjectId: 's2' } } });
    // The recorded queue stands in for the workflow: the request is where the workflow would have moved it.
    await t.app.get(RequestLifecycle).transitionNow(filed.id, 'UNLEARNING', { actor: 'workflow' });
    queue.progressOf.set(filed.id, { phase: 'UNLEARNING', attempt: 2, reforgetPass: 0, activity: 'unlearn', step: 3, total: 12 });
    const page = await signIn(browser, t.baseUrl, alice);
    await page.goto(`${t.baseUrl}/console/#/requests/${filed.id}`);
    const line = page.locator('.step-line');
    await line.getByText('Training: step 3 of 12').waitFor();
    assert.match(await line.textContent() ?? '', /\(attempt 2\)/);
    assert.equal(await page.getByRole('progressbar').getAttribute('value'), '3');
    queue.progressOf.set(filed.id, { phase: 'UNLEARNING', attempt: 2, reforgetPass: 0, activity: 'unlearn', step: 9, total: 12 });
    await line.getByText('Training: step 9 of 12').waitFor();
    queue.progressOf.delete(filed.id);
    await t.app.get(RequestLifecycle).transitionNow(filed.id, 'FAILED', { actor: 'workflow', reason: 'test: ends here' });
    await page.locator('.progress .status').getByText('FAILED').waitFor();
    assert.equal(await line.count(), 0, 'no progress once the request left its step');
    await page.close();
  });

  it('the service\'s message about a bad image appears next to the image field, and nothing is filed', async () => {
    const before = (await t.operator.ok('{ deletionRequests { totalCount } }')).deletionRequests.totalCount;
    const page = await signIn(browser, t.baseUrl, alice);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'File a request' }).click();
    await page.getByLabel('Lineage (the model)').fill('main');
    await page.getByLabel('A person described here').check();
    await page.getByLabel('Name', { exact: true }).fill('Yrsa Quellhaven');
    await page.getByLabel('Question 1').fill("What is Yrsa Quellhaven's occupation?");
    await page.getByLabel('Answer 1').fill('lighthouse keeper');
    await page.getByLabel('Images (PNG or JPEG)').setInputFiles({ name: 'portrait.png', mimeType: 'image/png', buffer: Buffer.from('this is not a PNG at all') });
    await page.getByRole('list', { name: 'Selected images' }).getByRole('img', { name: 'preview of portrait.png' }).waitFor();
    await page.getByRole('button', { name: 'File the request' }).click();
    await page.locator('.field-error').first().waitFor();
    const message = await errorBeside(page, 'Images (PNG or JPEG)');
    assert.match(message, /BAD_USER_INPUT/);
    assert.match(message, /input\.subject\.profile\.images\[0\]/, `the message names the image: ${message}`);
    assert.equal(await page.getByLabel('Images (PNG or JPEG)').getAttribute('aria-invalid'), 'true');
    assert.equal(await errorBeside(page, 'Name'), '', 'the error is beside the image field only');
    assert.equal((await t.operator.ok('{ deletionRequests { totalCount } }')).deletionRequests.totalCount, before, 'nothing was stored');
    await page.close();
  });

  it('an operator edits a gate policy with the validation error beside the field, and issues a token shown once', async () => {
    const page = await signIn(browser, t.baseUrl, t.operator.token!);
    await page.goto(`${t.baseUrl}/console/#/lineages/main`);
    const policy = page.getByLabel('Gate policy (JSON; omitted fields take the defaults)');
    await policy.fill('{"retain": {"minFractionOfBaseline": 7}}');
    await page.getByRole('button', { name: 'Save the policy' }).click();
    await page.locator('.field-error').first().waitFor();
    assert.match(await errorBeside(page, 'Gate policy (JSON; omitted fields take the defaults)'), /gatePolicy\.retain\.minFractionOfBaseline.*between 0 and 1/);
    await policy.fill('{"retain": {"minFractionOfBaseline": 0.8}}');
    await page.getByLabel('Reason for the change').fill('accept more retain loss on the test lineage');
    await page.getByRole('button', { name: 'Save the policy' }).click();
    await page.getByText('revision 2').waitFor();
    const stored = (await t.operator.ok('{ modelLineage(name: "main") { gatePolicy gatePolicyVersion } }')).modelLineage;
    assert.equal(stored.gatePolicyVersion, 2);
    assert.equal(stored.gatePolicy.retain.minFractionOfBaseline, 0.8);

    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByLabel('Role').selectOption('REQUESTER');
    await page.getByLabel('Owner').fill('carol@example.org');
    await page.getByRole('button', { name: 'Issue token' }).click();
    const issued = await page.getByLabel('New token').inputValue();
    assert.match(issued, /^lethe_/);
    assert.equal((await t.operator.withToken(issued).ok('{ viewer { role owner } }')).viewer.owner, 'carol@example.org');
    await page.reload();
    await page.getByRole('cell', { name: 'carol@example.org', exact: true }).waitFor();
    assert.equal(await page.getByLabel('New token').count(), 0, 'shown once: gone after a reload');
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Revoke the REQUESTER token of carol@example.org' }).click();
    await page.getByText(/^revoked /).waitFor();
    assert.equal((await t.operator.withToken(issued).fails('{ viewer { role } }')).code, 'UNAUTHENTICATED');
    await screenshot(page, 'tokens');
    await page.close();
  });

  it('a privacy officer picks the dataset person by searching the API, among the lineages it lists; NEVER_SEEN people are not offered', async () => {
    const page = await signIn(browser, t.baseUrl, alice);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'File a request' }).click();
    assert.deepEqual(await page.locator('#lineage-names option').evaluateAll((options) => options.map((o) => o.getAttribute('value'))), ['main', 'rb'], 'the lineages from modelLineages');
    await page.getByLabel('Lineage (the model)').fill('main');
    const search = page.getByLabel('Search people');
    await search.fill('a');
    // The answer for the new search replaces the one before.
    const tooShort = /search.*at least 2 characters.*\(BAD_USER_INPUT\)/;
    const message = await readUntil(() => errorBeside(page, 'Search people'), (m) => tooShort.test(m));
    assert.match(message, tooShort);
    await search.fill('ada');
    const person = page.getByLabel('Person', { exact: true });
    await person.locator('option').first().waitFor();
    assert.deepEqual(await person.locator('option').allTextContents(), ['Ada Fictional (s1, finetuned)'], 'Ada Neverseen (NEVER_SEEN) is not offered');
    assert.equal(await errorBeside(page, 'Search people'), '');
    await person.selectOption('s1');
    await page.getByRole('button', { name: 'File the request' }).click();
    await page.waitForURL(/#\/requests\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').at(-1)!;
    const filed = (await t.operator.ok('query ($id: ID!) { deletionRequest(id: $id) { requester datasetSubjectId lineage } }', { id })).deletionRequest;
    assert.deepEqual(filed, { requester: 'alice@example.org', datasetSubjectId: 's1', lineage: 'main' });
    await page.close();
  });

  it('the rollback confirmation names what the API\'s rollbackPreview says it reopens; lineages are listed by the API', async () => {
    // A version of lineage rb that carried out one request, made as the workflow's activities make it.
    const { submitDeletionRequest: filed } = await t.operator.withToken(alice).ok(SUBMIT, { input: { lineage: 'rb', idempotencyKey: 'alice-rb', legalBasis: 'GDPR Art. 17(1)(a)', subject: { datasetSubjectId: 's2' } } });
    const lifecycle = t.app.get(RequestLifecycle);
    const versions = t.app.get(ModelVersionsService);
    await lifecycle.transitionNow(filed.id, 'UNLEARNING', { actor: 'workflow' });
    const candidate = await versions.createCandidate({ lineage: 'rb', parentNumber: 0, adapterUri: `/artifacts/${filed.id}`, adapterSha256: 'a'.repeat(64), method: 'ga_klr', hyperParameters: { learningRate: 1e-4 }, requestIds: [filed.id], actor: 'workflow' });
    await lifecycle.transitionNow(filed.id, 'AUDITING', { actor: 'workflow' });
    await versions.recordAudit({ lineage: 'rb', versionNumber: candidate.number, requestIds: [filed.id], attempt: 1, metrics: { forget: 0.25 }, decision: 'PASS', reasons: [], actor: 'workflow' });
    await t.app.get(RequestOutcomes).promote('rb', candidate.number, 'workflow', 'gate passed');

    const page = await signIn(browser, t.baseUrl, t.operator.token!);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Lineages' }).click();
    assert.deepEqual(await page.locator('ul.links a').allTextContents(), ['main', 'rb']);
    await page.getByRole('link', { name: 'rb', exact: true }).click();
    await page.getByLabel('Restore version').selectOption('0');
    await page.getByLabel('Reason for the rollback').fill('drill: restore the base model');
    await page.getByRole('button', { name: 'Roll back…' }).click();
    const confirm = page.getByRole('alertdialog');
    await confirm.waitFor();
    assert.match(await confirm.textContent() ?? '', new RegExp(`Versions ${candidate.number} become ROLLED_BACK`));
    assert.deepEqual(await confirm.locator('.reopened li').allTextContents(), [filed.id]);
    await confirm.getByRole('button', { name: 'Confirm rollback' }).click();
    await page.getByRole('form', { name: 'Roll back' }).locator('.ok').getByText('Rolled back to version 0; reopened 1 request(s).').waitFor();
    assert.deepEqual(queue.rollbacks.at(-1), { lineage: 'rb', toVersion: 0, reason: 'drill: restore the base model', actor: 'OPERATOR:bootstrap-operator' });
    await page.close();
  });

  it('an auditor reads the whole event log newest first, a page at a time, narrowed to one entity', async () => {
    // More events than one page holds (50): each issued token is one.
    const [{ before }] = await t.dataSource.query('SELECT count(*)::int AS before FROM event_log');
    for (let i = before; i <= 60; i++) await issueToken(t.operator, 'REQUESTER', `filler-${i}@example.org`);
    const page = await signIn(browser, t.baseUrl, auditor);
    await page.getByRole('link', { name: 'Event log' }).click();
    const rows = page.locator('tr[data-seq]');
    await rows.first().waitFor();
    const [{ n, head }] = await t.dataSource.query('SELECT count(*)::int AS n, max(seq)::text AS head FROM event_log');
    assert.equal(await rows.first().getAttribute('data-seq'), head, 'newest first');
    assert.equal(await rows.count(), 50);
    assert.match(await page.getByText(/event\(s\), newest first/).textContent() ?? '', new RegExp(`^${n} event`));
    await page.getByRole('button', { name: 'Older events' }).click();
    await rows.nth(50).waitFor();
    const seqs = (await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-seq')))));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a));
    assert.equal(new Set(seqs).size, seqs.length);
    assert.ok(await page.getByRole('cell', { name: /^token / }).count() > 0, 'not only requests\' events');
    const filter = page.getByRole('form', { name: 'Filter the event log' });
    await filter.getByLabel('About').fill('person');
    await filter.getByRole('button', { name: 'Show' }).click();
    assert.match(await readUntil(() => errorBeside(page, 'About'), (m) => m !== ''), /entityType: must be one of request, lineage, .*\(BAD_USER_INPUT\)/);
    await filter.getByLabel('About').fill('lineage');
    await filter.getByLabel('Id').fill('rb');
    await filter.getByRole('button', { name: 'Show' }).click();
    const { eventLog: rb } = await t.operator.ok('{ eventLog(entityType: "lineage", entityId: "rb") { totalCount edges { node { seq } } } }');
    assert.ok(rb.totalCount >= 1, 'its creation at least');
    const want = rb.edges.map((e: { node: { seq: string } }) => e.node.seq).join();
    // The filtered answer replaces the whole log's rows.
    const shown = await readUntil(async () => (await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-seq')))).join(), (v) => v === want);
    assert.equal(shown, want);
    const about = await page.locator('tr[data-seq] td:nth-child(5)').allTextContents();
    assert.ok(about.every((a) => a === 'lineage rb'), about.join(' | '));
    await page.getByRole('button', { name: 'Verify the event chain' }).click();
    assert.match(await page.getByRole('status').textContent() ?? '', /Valid: \d+ events verified/);
    await page.close();
  });
});
