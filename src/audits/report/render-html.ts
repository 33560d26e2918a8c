// The compliance report as one self-contained HTML page: tables, the modality split and the
// sustainability chart as inline SVG. No scripts, no CDN, no external requests.
import { GateCheck } from '../domain/decision';
import { MODALITIES } from '../domain/eval-item';
import { AuditMetrics, MetricValue } from '../domain/metrics';
import { ComplianceReport, DueState } from '../domain/report';
import { escapeHtml as e, percent, points, table } from './html';
import { isForgettingCheck, renderForgettingSection } from './forgetting-html';
import { renderSustainabilityChart } from './sustainability-chart';

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222;padding:0 1rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
.decision{display:inline-block;padding:.2rem .7rem;border-radius:4px;font-weight:bold;color:#fff}
.PASS{background:#1e8449}.FAIL{background:#b9770e}.REVIEW{background:#922b21}
.pass{color:#1e8449}.fail{color:#922b21;font-weight:bold}code{font-size:12px;word-break:break-all}
.legend-item{margin-right:1rem;font-size:12px}figure{margin:0}`;

const DUE_TEXT: Record<DueState, string> = {
  MET: 'met (completed before the due date)',
  MISSED: 'missed (completed after the due date)',
  PENDING: 'pending (not completed, not yet due)',
  OVERDUE: 'OVERDUE (not completed, past the due date)',
};

function metricCells(v: MetricValue, base: MetricValue | undefined): string[] {
  return [percent(v.accuracy), percent(base?.accuracy), percent(v.ofBaseline), points(v.deltaFromParent), `${v.correct}/${v.total}`];
}

function metricsTable(m: AuditMetrics, baseline: AuditMetrics | null): string {
  const sets = [
    ['Forget (this request)', 'forget', 'forgotten'],
    ['Cumulative forget (all forgotten so far)', 'cumulativeForget', 'forgotten'],
    ['Retain (people not forgotten)', 'retain', 'retained'],
  ] as const;
  const rows = sets.flatMap(([label, key, kind]) =>
    MODALITIES.map((mod) => [e(label), mod, ...metricCells(m[key][mod], baseline?.[key][mod]), kind]),
  );
  rows.push(['General (MMBench-layout)', 'overall', ...metricCells(m.general.overall, baseline?.general.overall), 'retained']);
  for (const [category, v] of Object.entries(m.general.byCategory)) {
    rows.push([`General: ${e(category)}`, 'category', ...metricCells(v, baseline?.general.byCategory[category]), 'retained']);
  }
  // The same people asked in the prompt formats no unlearning example uses (version 0 is not asked there).
  for (const [format, other] of Object.entries(m.otherFormats ?? {})) {
    for (const [label, key] of [['Forget (this request)', 'forget'], ['Cumulative forget (all forgotten so far)', 'cumulativeForget']] as const) {
      rows.push(...MODALITIES.map((mod) => [`${e(label)}, ${e(format)} prompt format`, mod, ...metricCells(other![key][mod], undefined), 'forgotten']));
    }
  }
  return table('metrics', ['Set', 'Modality', 'Accuracy', 'Version 0', '% of version 0', 'Δ parent', 'Correct', 'Relative as'], rows);
}

function runnerUpNote(m: AuditMetrics, chance: number): string {
  const share = m.forgottenRunnerUp;
  if (!share || (share.multimodal === null && share.text === null)) return '';
  return `<p id="runner-up">Of every forgotten person's questions, the right answer was the model's second choice in ${percent(share.multimodal)} (multimodal) and ${percent(share.text)} (text-only). With nothing left of the people this is about ${percent(chance)}; more means the right answer was pushed just below the top, where the accuracy does not count it but someone taking the second choice finds it.</p>`;
}

function mustBe(c: GateCheck): string {
  const bound = `${e(c.comparison)} ${percent(c.threshold)}`;
  return c.significance === undefined ? bound : `${bound} or p ≥ ${e(c.significance)}`;
}

/** Policies recorded before the significance rule have no `forget.significance`: say nothing then. */
function significanceRule(significance: number | undefined): string {
  return typeof significance === 'number'
    ? `, or the number right not significantly above chance (one-sided binomial p-value P(X ≥ right | questions, chance) ≥ ${e(significance)})`
    : '';
}

function requestSection(r: NonNullable<ComplianceReport['request']>): string {
  return `<h2>Request</h2>${table('request', ['Field', 'Value'], [
    ['Request id', `<code>${e(r.id)}</code>`],
    ['Requested by', e(r.requester)],
    ['Received', e(r.receivedAt)],
    ['Legal basis', e(r.legalBasis)],
    ['Due', e(r.dueAt)],
    ['Due date', `<span class="${r.due === 'MET' || r.due === 'PENDING' ? 'pass' : 'fail'}" id="due-state">${e(DUE_TEXT[r.due])}</span>`],
    ['Completed', e(r.completedAt ?? 'not completed')],
    ['Status', `${e(r.status)}${r.statusReason ? ` — ${e(r.statusReason)}` : ''}`],
    ['Forget set sha256 (content not shown)', `<code id="forget-set-digest">${e(r.forgetSetDigest ?? 'none')}</code>`],
    ['Forget set personal data purged', e(r.forgetSetPurgedAt ?? (r.forgetSetKeptUntil
      ? `not yet: kept encrypted until ${r.forgetSetKeptUntil} so that a rollback can unlearn the person again, and purged then`
      : 'not yet (kept encrypted while the request is open or a cumulative lineage retrains on it)'))],
  ])}`;
}

export function renderReportHtml(report: ComplianceReport): string {
  const audit = report.audit;
  const title = report.request
    ? `Compliance report — deletion request ${report.request.id}`
    : `Compliance report — ${report.lineage} version ${report.versionNumber}`;
  const chance = audit?.metrics?.chanceLevel ?? 0.25;
  const decision = audit
    ? `<p>Decision on version ${audit.versionNumber} (attempt ${audit.attempt}): <span id="decision" class="decision ${e(audit.decision)}">${e(audit.decision)}</span></p>
<ul id="reasons">${audit.reasons.map((r) => `<li>${e(r)}</li>`).join('')}</ul>
${audit.auditError ? `<p class="fail">Audit error (${e(audit.auditError.reason)}): ${e(audit.auditError.message)}</p>` : ''}`
    : '<p id="decision">Not audited yet.</p>';
  const accuracyChecks = audit?.checks.filter((c) => !isForgettingCheck(c)) ?? [];
  const checks = audit && accuracyChecks.length > 0
    ? `${table('gate-checks', ['Rule', 'Number', 'Value', 'Must be', 'Right / asked', 'Binomial p vs chance', 'Result'], accuracyChecks.map((c) => [
        e(c.rule), `<code>${e(c.metric)}</code>`, percent(c.value), mustBe(c),
        c.n === undefined ? '–' : `${e(c.correct)}/${e(c.n)}`,
        c.pValue === undefined ? '–' : c.pValue === null ? 'missing' : e(c.pValue.toPrecision(3)),
        `<span class="${c.passed ? 'pass' : 'fail'}">${c.passed ? (c.passedBy === 'binomial' ? 'pass (not significantly above chance)' : 'pass') : 'FAIL'}</span>`,
      ]))}${accuracyChecks.some((c) => c.significance !== undefined) ? `
<p id="gate-checks-note">A forget check passes when the accuracy is within the margin above chance, or when the number right is not significantly above chance: the one-sided binomial p-value P(X ≥ right | asked, chance) is at least the policy's significance (a model that forgot and answers at random still gets some right, most visibly on a few questions).</p>` : ''}`
    : '';
  const metrics = audit?.metrics ? metricsTable(audit.metrics, audit.baseline) + runnerUpNote(audit.metrics, chance) : '<p>No numbers (the audit did not produce metrics).</p>';
  const versions = table('versions', ['Version', 'Parent', 'Status', 'Method', 'Adapter sha256', 'Requests', 'Re-forgot', 'Created'], report.versions.map((v) => [
    `v${v.number}`, v.parentNumber === null ? '–' : `v${v.parentNumber}`, e(v.status), e(v.method ?? 'base model'),
    `<code>${e(v.adapterSha256 ?? 'none (base model)')}</code>`, e(v.requestIds.length),
    v.reforgottenSubjectIds.length ? e(v.reforgottenSubjectIds.join(', ')) : '–', e(v.createdAt),
  ]));
  const curve = table('sustainability', ['Version', 'Status', 'Cum. forget multimodal', 'Cum. forget text', 'Retain multimodal', 'Retain text', 'General'], report.sustainability.map((p) => [
    `v${p.version}`, e(p.status), percent(p.cumulativeForget.multimodal), percent(p.cumulativeForget.text), percent(p.retain.multimodal), percent(p.retain.text), percent(p.general),
  ]));
  const attempts = report.attempts.length > 1
    ? `<h2>Attempts</h2>${table('attempts', ['Version', 'Attempt', 'Decision', 'Reasons', 'Recorded'], report.attempts.map((a) => [`v${a.versionNumber}`, e(a.attempt), e(a.decision), e(a.reasons.join('; ')), e(a.recordedAt)]))}`
    : '';
  const policy = audit?.gatePolicy
    ? `<p>Policy version ${e(audit.gatePolicy.version)}: forget ≤ chance (${percent(chance)}) + ${percent(audit.gatePolicy.forget.maxAccuracyAboveChance)}${significanceRule(audit.gatePolicy.forget.significance)} in both modalities, for this request and cumulatively; retain ≥ ${percent(audit.gatePolicy.retain.minFractionOfBaseline)} of version 0 per modality; general ≥ ${percent(audit.gatePolicy.general.minFractionOfBaseline)} of version 0${audit.gatePolicy.general.circularEval ? ' (CircularEval)' : ''}.</p>
<ul id="candidate-rules">${audit.candidateRules.map((rule) => `<li>${e(rule)}</li>`).join('')}</ul>
<pre id="policy">${e(JSON.stringify(audit.gatePolicy, null, 2))}</pre>`
    : '<p id="policy">No valid gate policy was recorded with this audit.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(title)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>${STYLE}</style></head>
<body>
<h1>${e(title)}</h1>
<p>Lineage <strong>${e(report.lineage)}</strong>. Generated ${e(report.generatedAt)}. Machine-readable: <a href="${e(report.links.json)}">${e(report.links.json)}</a>.</p>
${report.request ? requestSection(report.request) : ''}
<h2>Decision</h2>
${decision}
${checks}
<h2>PULSE metrics</h2>
<p>Scoring: ${e(audit?.scoringMethod ?? 'n/a')}. Chance level ${percent(chance)}. Forget is shown as % forgotten relative to version 0 (1 − acc/acc₀); the others as % retained (acc/acc₀).</p>
${metrics}
${renderForgettingSection(audit, chance)}
<h2>Sustainability across versions</h2>
${renderSustainabilityChart(report.sustainability, chance)}
${curve}
<h2>Versions involved</h2>
${versions}
${attempts}
<h2>Gate policy in force</h2>
${policy}
</body></html>
`;
}
