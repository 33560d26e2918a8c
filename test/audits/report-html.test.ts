import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { AuditResult } from '../../src/audits/domain/audit-activity';
import { buildReport, ComplianceReport, dueState, ReportFacts, StoredAudit } from '../../src/audits/domain/report';
import { NO_NEVER_SEEN_PEOPLE } from '../../src/audits/domain/forgetting-evidence';
import { renderReportHtml } from '../../src/audits/report/render-html';
import { launchChromium } from '../support/chromium';
import { auditHistory, DIGEST, REQUEST, SHA1, SHA2 } from './fixtures';

async function facts(overrides: Partial<ReportFacts> = {}): Promise<ReportFacts> {
  const { v1, v2 } = await auditHistory();
  const stored = (versionNumber: number, attempt: number, result: AuditResult, minute: number): StoredAudit => ({
    versionNumber, requestId: REQUEST, attempt, recordedAt: new Date(Date.UTC(2025, 0, 2, 10, minute)), result,
  });
  return {
    lineage: 'default',
    request: {
      id: REQUEST,
      requester: 'dpo@example.org',
      legalBasis: 'GDPR Art. 17(1)(a) <b>withdrawn consent</b>',
      status: 'COMPLETED',
      statusReason: null,
      receivedAt: new Date(Date.UTC(2025, 0, 1)),
      dueAt: new Date(Date.UTC(2025, 0, 31)),
      completedAt: new Date(Date.UTC(2025, 0, 2, 11)),
      forgetSetDigest: DIGEST,
      forgetSetPurgedAt: null,
      forgetSetKeptUntil: null,
    },
    versionNumber: 2,
    versions: [
      { number: 0, parentNumber: null, status: 'SUPERSEDED', adapterSha256: null, method: null, requestIds: [], reforgottenSubjectIds: [], createdAt: new Date(Date.UTC(2024, 11, 1)) },
      { number: 1, parentNumber: 0, status: 'REJECTED', adapterSha256: SHA1, method: 'ga', requestIds: [REQUEST], reforgottenSubjectIds: [], createdAt: new Date(Date.UTC(2025, 0, 2, 10)) },
      { number: 2, parentNumber: 0, status: 'PROMOTED', adapterSha256: SHA2, method: 'ga', requestIds: [REQUEST], reforgottenSubjectIds: ['s4', 's7'], createdAt: new Date(Date.UTC(2025, 0, 2, 10, 30)) },
    ],
    audits: [stored(2, 2, v2, 40), stored(1, 1, v1, 20)],
    links: { json: `/reports/requests/${REQUEST}.json`, html: `/reports/requests/${REQUEST}.html` },
    now: new Date(Date.UTC(2025, 0, 3)),
    ...overrides,
  };
}

describe('report document', () => {
  it('names the versions involved, every attempt, and the curve without rejected candidates', async () => {
    const report = buildReport(await facts());
    assert.equal(report.kind, 'request');
    assert.equal(report.request!.due, 'MET');
    assert.deepEqual(report.versions.map((v) => [v.number, v.adapterSha256]), [[0, null], [1, SHA1], [2, SHA2]]);
    assert.deepEqual(report.attempts.map((a) => [a.versionNumber, a.decision]), [[1, 'FAIL'], [2, 'PASS']]);
    assert.equal(report.audit!.decision, 'PASS');
    assert.equal(report.audit!.gatePolicy!.version, 2);
    // The rules that pick among a step's candidates show with the policy's numbers.
    assert.match(report.audit!.candidateRules[0], /every forgotten person at or below 0\.40/);
    assert.match(report.audit!.candidateRules[2], /up to 3 goal passes/);
    assert.deepEqual(report.sustainability.map((p) => [p.version, p.cumulativeForget.text]), [[0, 1], [2, 0]]);
    assert.ok(!JSON.stringify(report).includes('s1-m'), 'no eval content in the report');
    const f = report.audit!.forgetting!;
    assert.deepEqual([f.evidence!.forget.text.n, f.evidence!.forget.text.referenceN, f.evidence!.reference.subjects], [1, 2, 2]);
    assert.deepEqual(f.knowledgeBefore, { multimodal: 1, text: 1 });
    assert.deepEqual(f.belowChance.forget, { multimodal: false, text: false });
    assert.deepEqual([f.pRight.text.forgotten.length, f.pRight.text.neverSeen.length], [1, 2]);
    assert.equal(f.noKnowledgeFound, false);
  });

  it('tells met, missed, pending and overdue due dates apart', () => {
    const dueAt = new Date(Date.UTC(2025, 0, 31));
    const now = new Date(Date.UTC(2025, 1, 5));
    assert.equal(dueState({ dueAt, completedAt: new Date(Date.UTC(2025, 1, 1)) }, now), 'MISSED');
    assert.equal(dueState({ dueAt, completedAt: null }, now), 'OVERDUE');
    assert.equal(dueState({ dueAt, completedAt: null }, new Date(Date.UTC(2025, 0, 5))), 'PENDING');
  });

  it('reports a version that was never audited with no decision rather than a fake one', async () => {
    const report = buildReport(await facts({ request: null, versionNumber: 0, audits: [] }));
    assert.equal(report.kind, 'version');
    assert.equal(report.audit, null);
    assert.deepEqual(report.sustainability, []);
  });
});

describe('report HTML in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  let report: ComplianceReport;
  before(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
    report = buildReport(await facts());
    await page.setContent(renderReportHtml(report));
  });
  after(async () => browser?.close());

  const cell = (tableId: string, rowIndex: number, col: number) =>
    page.locator(`#${tableId} tbody tr`).nth(rowIndex).locator('td').nth(col).innerText();

  it('shows who asked, when, the legal basis, the due date and that it was met', async () => {
    const text = await page.locator('#request').innerText();
    for (const expected of ['dpo@example.org', '2025-01-01T00:00:00.000Z', '2025-01-31T00:00:00.000Z', 'GDPR Art. 17(1)(a) <b>withdrawn consent</b>', DIGEST]) {
      assert.ok(text.includes(expected), `request table shows ${expected}`);
    }
    assert.equal(await page.locator('#due-state').innerText(), 'met (completed before the due date)');
    assert.equal(await page.locator('b').count(), 0, 'user text is escaped, not markup');
  });

  it('shows the decision, the modality split and the numbers relative to version 0', async () => {
    assert.equal(await page.locator('#decision').innerText(), 'PASS');
    // rows: forget mm, forget text, cumulative mm, cumulative text, retain mm, retain text, general...
    assert.deepEqual([await cell('metrics', 0, 1), await cell('metrics', 0, 2), await cell('metrics', 0, 3), await cell('metrics', 0, 4)], ['multimodal', '0.0%', '100.0%', '100.0%']);
    assert.deepEqual([await cell('metrics', 1, 1), await cell('metrics', 1, 2), await cell('metrics', 1, 6)], ['text', '0.0%', '0/1']);
    assert.deepEqual([await cell('metrics', 4, 0), await cell('metrics', 4, 2), await cell('metrics', 4, 4)], ['Retain (people not forgotten)', '100.0%', '100.0%']);
    assert.equal(await cell('metrics', 6, 2), '100.0%'); // general overall
    // forget and cumulative forget per modality in both prompt formats, retain per modality, general.
    assert.equal(await page.locator('#gate-checks tbody tr').count(), 11);
    assert.equal(await page.locator('#gate-checks .fail').count(), 0);
  });

  it('explains the forget checks: right of asked, the binomial p-value and the significance rule', async () => {
    // Row 1 is forget.text of v2: 0 of 1 right (p = 1); the fixture's policy asks for significance 0.5.
    assert.equal(await cell('gate-checks', 1, 1), 'forget.text.accuracy');
    assert.deepEqual([await cell('gate-checks', 1, 3), await cell('gate-checks', 1, 4), await cell('gate-checks', 1, 5)], ['<= 35.0% or p ≥ 0.5', '0/1', '1.00']);
    // Rows 2-3 ask the same in the mllmu prompt format; retain checks (row 8 on) have no counts.
    assert.equal(await cell('gate-checks', 3, 1), 'otherFormats.mllmu.forget.text.accuracy');
    assert.deepEqual([await cell('gate-checks', 8, 0), await cell('gate-checks', 8, 4), await cell('gate-checks', 8, 5)], ['RETAIN', '–', '–']);
    assert.match(await page.locator('#gate-checks-note').innerText(), /one-sided binomial p-value/);
    const policy = await page.locator('h2:has-text("Gate policy in force") + p').innerText();
    assert.match(policy, /forget ≤ chance \(25\.0%\) \+ 10\.0%, or the number right not significantly above chance \(one-sided binomial p-value P\(X ≥ right \| questions, chance\) ≥ 0\.5\)/);
    assert.equal(JSON.parse(await page.locator('#policy').innerText()).forget.significance, 0.5);
    assert.match(await page.locator('#candidate-rules').innerText(), /more forgotten people above 0\.40 than the passing candidate/);
  });

  it('renders an audit recorded before the significance rule without claiming it', () => {
    const old = structuredClone(report);
    const audit = old.audit!;
    audit.checks = audit.checks.map(({ rule, metric, value, comparison, threshold, passed }) => ({ rule, metric, value, comparison, threshold, passed }));
    audit.gatePolicy = { ...audit.gatePolicy!, forget: { maxAccuracyAboveChance: 0.1 } as never };
    old.attempts = []; // v1's reasons were written by the new gate
    const html = renderReportHtml(old);
    assert.ok(!html.includes('significan'), 'no significance rule, column value or note');
    assert.ok(html.includes('<td>&lt;= 35.0%</td>'), 'the bound alone');
  });

  it('lists the versions with their adapter hashes and the policy in force', async () => {
    const versions = await page.locator('#versions').innerText();
    assert.ok(versions.includes(SHA1) && versions.includes(SHA2) && versions.includes('none (base model)'));
    assert.ok(versions.includes('s4, s7'), `the re-forgotten people of v2 are listed: ${versions}`);
    assert.equal(JSON.parse(await page.locator('#policy').innerText()).version, 2);
    assert.equal(await page.locator('#attempts tbody tr').count(), 2);
  });

  it('shows every forgetting rule with its number and sample sizes, and version 0 beside the candidate', async () => {
    assert.equal(await page.locator('#forgetting-checks tbody tr').count(), 24 + 2, 'each rule in both prompt formats, and the free-form probe');
    assert.equal(await page.locator('#forgetting-checks .fail').count(), 0);
    // forget quality of this request, multimodal: 1 forgotten vs 2 never-seen questions, indistinguishable.
    assert.deepEqual([await cell('forgetting-checks', 0, 1), await cell('forgetting-checks', 0, 2), await cell('forgetting-checks', 0, 4)], ['forgetting.forget.multimodal.forgetQuality', '1.000', '1 / 2']);
    assert.match(await cell('forgetting-checks', 4, 3), /CI reaches into 0\.5 ± 0\.1/);
    // v2 forgot s1 (AUC 0.5); version 0 knew them (AUC 1).
    assert.deepEqual([await cell('forgetting', 0, 2), await cell('forgetting', 1, 2)], ['v2', 'v0']);
    assert.match(await cell('forgetting', 0, 5), /^0\.500 \[/);
    assert.match(await cell('forgetting', 1, 5), /^1\.000 \[/);
    assert.match(await page.locator('#knowledge-before').innerText(), /version 0 answered this request's questions 100\.0% right with the image/);
    assert.equal(await page.locator('#no-knowledge-found').count(), 0);
    assert.equal(await page.locator('#missing-reference').count(), 0);
  });

  it('charts pRight of the forgotten people against the never-seen people', async () => {
    const box = await page.locator('#p-right-chart').boundingBox();
    assert.ok(box && box.width > 300 && box.height > 100);
    assert.equal(await page.locator('#p-right-chart g.strip').count(), 6);
    assert.equal(await page.locator('#p-right-chart g[data-group="neverSeen"][data-modality="text"] circle').count(), 2);
    assert.equal(await page.locator('#p-right-chart g[data-group="forgotten"][data-modality="text"] circle').count(), 1);
  });

  it('says why the forgetting rules cannot pass on a dataset without never-seen people', () => {
    const noReference = structuredClone(report);
    const f = noReference.audit!.forgetting!;
    f.evidence!.missingReference = NO_NEVER_SEEN_PEOPLE;
    assert.ok(renderReportHtml(noReference).includes(`<p class="fail" id="missing-reference">${NO_NEVER_SEEN_PEOPLE}.</p>`));
  });

  it('draws the sustainability curve as inline SVG', async () => {
    const box = await page.locator('#sustainability-chart').boundingBox();
    assert.ok(box && box.width > 300 && box.height > 100, 'the chart is laid out and visible');
    assert.equal(await page.locator('#sustainability-chart g.series').count(), 5);
    assert.equal(await page.locator('#sustainability-chart polyline').count(), 5);
    // cumulative forget, text: v0 100% (top of the plot), v2 0% (bottom).
    const pointsAttr = await page.locator('g[data-series="forget-text"] polyline').getAttribute('points');
    const ys = pointsAttr!.split(' ').map((p) => Number(p.split(',')[1]));
    assert.ok(ys[0] < ys[1], `the forget curve goes down: ${pointsAttr}`);
    assert.deepEqual(await page.locator('#sustainability tbody tr td:first-child').allInnerTexts(), ['v0', 'v2']);
  });
});
