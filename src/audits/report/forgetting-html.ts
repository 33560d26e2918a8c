// The report's "Evidence of forgetting" section: the forgetting rules with their numbers and sample
// sizes, the measurements behind them (this version and version 0), and the pRight chart.
import { GateCheck } from '../domain/decision';
import { MODALITIES } from '../domain/eval-item';
import { SetEvidence } from '../domain/forgetting-evidence';
import { ForgettingRule } from '../domain/forgetting-rules';
import { aucConfidenceInterval } from '../domain/forgetting-statistics';
import { ReportAudit } from '../domain/report';
import { escapeHtml as e, percent, table } from './html';
import { renderPRightChart } from './p-right-chart';

export const FORGETTING_RULES: readonly ForgettingRule[] = ['FORGET_QUALITY', 'MIA_AUC', 'BELOW_CHANCE', 'FREE_FORM'];

export const isForgettingCheck = (c: GateCheck) => (FORGETTING_RULES as readonly string[]).includes(c.rule);

const num = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? 'missing' : v.toFixed(digits));

function mustBe(c: GateCheck): string {
  if (c.comparison === 'within') return `CI reaches into 0.5 ± ${e(c.threshold)}`;
  if (c.rule === 'BELOW_CHANCE') return `not below chance at p ${e(c.significance)}`;
  if (c.rule === 'FREE_FORM') return `not above the never-seen rate ${num(c.threshold)} at p ${e(c.significance)}`;
  return `${e(c.comparison)} ${e(c.threshold)}`;
}

function checksTable(checks: GateCheck[]): string {
  return table('forgetting-checks', ['Rule', 'Number', 'Value', 'Must be', 'Questions (forgotten / never seen)', 'Result'], checks.map((c) => [
    e(c.rule),
    `<code>${e(c.metric)}</code>`,
    c.value === null ? 'missing' : c.interval ? `${num(c.value)} [${num(c.interval[0])}, ${num(c.interval[1])}]` : c.rule === 'BELOW_CHANCE' ? `${e(c.correct)}/${e(c.n)} right, p = ${num(c.pValue)}` : c.rule === 'FREE_FORM' ? `${e(c.correct)}/${e(c.n)} stated, p = ${num(c.pValue)}` : num(c.value),
    mustBe(c),
    `${e(c.n ?? '–')} / ${e(c.referenceN ?? '–')}`,
    `<span class="${c.passed ? 'pass' : 'fail'}" title="${e(c.detail ?? '')}">${c.passed ? 'pass' : 'FAIL'}</span>`,
  ]));
}

function evidenceCells(s: SetEvidence | undefined, significance: number): string[] {
  if (!s) return ['–', '–', '–', '–', '–'];
  const ci = s.miaAuc ? aucConfidenceInterval(s.miaAuc, significance) : null;
  return [
    `${s.n} / ${s.referenceN}`,
    s.forgetQuality ? `${num(s.forgetQuality.pValue)} (D = ${num(s.forgetQuality.statistic)}, ${e(s.forgetQuality.method)})` : 'missing',
    s.miaAuc ? `${num(s.miaAuc.auc)} [${num(ci![0])}, ${num(ci![1])}]` : 'missing',
    s.rankShares ? s.rankShares.map((v) => percent(v)).join(' / ') : 'missing',
    s.belowChance ? `${s.belowChance.correct}/${s.belowChance.n}, P(X ≤ right) = ${num(s.belowChance.pValue)}` : 'missing',
  ];
}

function evidenceTable(audit: ReportAudit, significance: number): string {
  const f = audit.forgetting!;
  const sets = [['This request', 'forget'], ['Everyone forgotten', 'cumulativeForget']] as const;
  const rows = sets.flatMap(([label, key]) =>
    MODALITIES.flatMap((m) => [
      [e(label), m, `v${audit.versionNumber}`, ...evidenceCells(f.evidence?.[key][m], significance)],
      [e(label), m, 'v0', ...evidenceCells(f.versionZero?.[key][m], significance)],
    ]),
  );
  return table('forgetting', ['Set', 'Modality', 'Version', 'Questions (forgotten / never seen)', 'Forget quality (KS p)', `Loss-attack AUC [${Math.round((1 - significance) * 100)}% CI]`, 'Right answer 1st / 2nd / 3rd / 4th', 'Right / asked vs chance'], rows);
}

export function renderForgettingSection(audit: ReportAudit | null, chanceLevel: number): string {
  if (!audit?.forgetting) return '';
  const f = audit.forgetting;
  const significance = f.significance ?? 0.05;
  const checks = audit.checks.filter(isForgettingCheck);
  const missing = f.evidence?.missingReference;
  const before = `<p id="knowledge-before">Before unlearning, version 0 answered this request's questions ${percent(f.knowledgeBefore.multimodal)} right with the image and ${percent(f.knowledgeBefore.text)} text-only.${f.noKnowledgeFound ? ' <strong id="no-knowledge-found">The model showed no knowledge of this person before unlearning</strong>: version 0 answered them like people it never saw.' : ''}</p>`;
  return `<h2>Evidence of forgetting</h2>
<p>A forgotten person should be indistinguishable from a person the model never saw (${e(f.evidence?.reference.subjects ?? 0)} never-seen people, ${e(f.evidence?.reference.questions.multimodal ?? 0)} multimodal and ${e(f.evidence?.reference.questions.text ?? 0)} text questions). Forget quality is the KS test's p-value of the probability of the right option (1 = indistinguishable); the loss-attack AUC is 0.5 when an attacker cannot tell them apart, above when the person is still known, below when the deletion shows.</p>
${missing ? `<p class="fail" id="missing-reference">${e(missing)}.</p>` : ''}
${before}
${checks.length ? checksTable(checks) : ''}
${evidenceTable(audit, significance)}
${renderPRightChart(f.pRight, chanceLevel)}`;
}
