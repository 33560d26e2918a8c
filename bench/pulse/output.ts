// --out DIR (report.json, report.html, PNG charts) and --docs FILE (the findings document).
// PNGs: the SVG figures rasterised by the headless Debian Chromium (playwright-core, no download).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { figure4Svg, figure5Svg, table3Rows, table3Svg } from './charts';
import { evaluateFindings, forgotten, generalKept, MIN_KNOWN_ACCURACY } from './findings';
import type { RunResult } from './harness';
import { fmt, GOAL, guessingAbove, pct, SettingReport } from './report';
import { DEFAULT_GATE_POLICY } from '../../src/audits/domain/gate-policy';
import { DEFAULT_LORA } from '../../src/lineages/domain/lineage';

// Figures 4 and 5 show the runs on a new lineage's LoRA targets (Table 3 compares targets).
const FIGURE_TARGETS = DEFAULT_LORA.targets;

export interface OutputOptions {
  reports: SettingReport[];
  /** Reports of earlier runs listed as the strategy search (not used for the paper's findings). */
  searched: SettingReport[];
  runs: RunResult[];
  outDir: string | null;
  docsFile: string | null;
  command: string;
  wallSeconds: number;
  progress(message: string): void;
}

export const CHROMIUM = '/usr/bin/chromium';
/** Why the PNG charts cannot be rendered on this machine, or null when they can. */
export function chromiumMissing(): string | null {
  return fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing: install it with "apt-get install -y chromium" to render PNG charts`;
}
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Figure {
  file: string;
  title: string;
  svg: string;
}

/** The figures a set of reports supports (a figure is left out when its runs are missing). */
export function figures(reports: SettingReport[]): Figure[] {
  const out: Figure[] = [];
  const oneShot = reports.filter((r) => r.setting !== 'sustainability' && r.targets === FIGURE_TARGETS);
  if (oneShot.length > 0) out.push({ file: 'figure4-normalised.png', title: 'PULSE Figure 4: forget as % forgotten, retain and general as % kept (vs version 0)', svg: figure4Svg(oneShot) });
  for (const setting of ['finetuned', 'pretrained'] as const) {
    const rows = reports.filter((r) => r.setting === setting);
    if (new Set(rows.map((r) => r.targets)).size > 1) {
      out.push({ file: `table3-${setting}.png`, title: `PULSE Table 3 (${setting}): modality x update target`, svg: table3Svg(`${setting}: accuracy (%) by modality and update target`, table3Rows(rows)) });
    }
  }
  const sustain = reports.filter((r) => r.setting === 'sustainability' && r.targets === FIGURE_TARGETS);
  if (sustain.length > 0) out.push({ file: 'figure5-rounds.png', title: 'PULSE Figure 5: per-round curves, sequential vs cumulative', svg: figure5Svg(sustain) });
  return out;
}

async function rasterise(figs: Figure[], dir: string): Promise<void> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  try {
    const page = await browser.newPage();
    for (const f of figs) {
      await page.setContent(`<!doctype html><html><body style="margin:0">${f.svg}</body></html>`);
      await page.locator('svg').first().screenshot({ path: path.join(dir, f.file) });
    }
  } finally {
    await browser.close();
  }
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const m2 = (m: { multimodal: number | null; text: number | null }) => `${fmt(m.multimodal)} / ${fmt(m.text)}`;
const reforget = (r: SettingReport) =>
  r.reforgetPasses ? `, re-forgetting (≤ ${r.reforgetPasses} passes a request${r.reforgetAboveAccuracy !== undefined ? `, above ${r.reforgetAboveAccuracy}` : ''})` : '';
const name = (r: SettingReport) => `${r.method}${r.strategy ? ` ${r.strategy}` : ''}${r.targets !== 'llm' ? ` (${r.targets})` : ''}${reforget(r)}${r.label ? `, ${r.label}` : ''}`;

/** One row per report: accuracies before -> after (MM / text), and Figure 4's normalised numbers. */
function summaryRows(reports: SettingReport[]): string[][] {
  return reports.map((r) => {
    const last = r.rounds[r.rounds.length - 1];
    const f = forgotten(r);
    return [
      r.setting, name(r), `${r.people.forget}/${r.people.retain}`,
      `${m2(r.baseline.forget)} → ${m2(last.cumulativeForget)}${r.spread ? ` ± ${m2(r.spread.rounds[r.rounds.length - 1].cumulativeForget)}` : ''}`,
      `${m2(r.baseline.retain)} → ${m2(last.retain)}`,
      `${fmt(r.baseline.general)} → ${fmt(last.general)}${r.spread ? ` ± ${fmt(r.spread.rounds[r.rounds.length - 1].general)} (${r.seeds} seeds)` : ''}`,
      `${pct(f.multimodal)} / ${pct(f.text)}`, pct(generalKept(r)), `${r.wallSeconds.toFixed(0)}s`,
    ];
  });
}

const SUMMARY_HEAD = ['setting', 'method', 'forget/retain people', 'forget acc MM / text', 'retain acc MM / text', 'general acc', 'forgotten MM / text', 'general kept', 'wall'];

function markdownTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function roundRows(r: SettingReport): string[][] {
  return r.rounds.map((x) => [String(x.round), m2(x.forget), m2(x.cumulativeForget), m2(x.retain), fmt(x.general)]);
}
const ROUND_HEAD = ['round', 'this request MM / text', 'everyone forgotten MM / text', 'retain MM / text', 'general'];

function chanceLine(reports: SettingReport[]): string[] {
  const n = reports.find((r) => r.goal?.questionsPerPerson)?.goal?.questionsPerPerson;
  if (!n) return [];
  return [``, `A person has ${n} questions per modality here, so a model that only guesses (accuracy 0.25) still puts ${pct(guessingAbove(n))} of people above ${GOAL.maxForgottenAccuracy}. The goal is therefore also checked per request (each request's people together), which this sample size can measure.`];
}

function goalLines(reports: SettingReport[]): string[] {
  return reports.filter((r) => r.goal).map((r) => {
    const g = r.goal!;
    const hp = Object.entries(r.hyperParameters).map(([k, v]) => `${k}=${v}`).join(', ');
    const known = Math.min(r.baseline.forget.multimodal ?? 0, r.baseline.forget.text ?? 0) >= MIN_KNOWN_ACCURACY;
    const caveat = known ? '' : ` [version 0 answers these people at ${fmt(r.baseline.forget.multimodal)} / ${fmt(r.baseline.forget.text)}: near chance, so "forgotten" proves nothing]`;
    const verdict = g.met ? 'MEETS the goal' : g.metPerRequest ? 'meets the goal per request, not per person' : 'misses the goal';
    const which = r.seeds ? ` (${g.met ? `all ${r.seeds} seeds` : `seed ${g.seed}, the first of ${r.seeds} seeds that misses it${g.metPerRequest ? ' per person' : ''}`})` : '';
    return `- **${name(r)}** (${hp}; model ${r.model}): ${verdict}${which}${caveat}; worst request's people ${fmt(g.worstRequest.multimodal)} MM / ${fmt(g.worstRequest.text)} text, worst forgotten person ${fmt(g.worstForgotten.multimodal)} MM / ${fmt(g.worstForgotten.text)} text (${g.peopleAbove.multimodal} MM / ${g.peopleAbove.text} text of ${g.peopleAbove.of} people above ${GOAL.maxForgottenAccuracy}), retain kept ${pct(g.retainOfBaseline.multimodal)} / ${pct(g.retainOfBaseline.text)}, general kept ${pct(g.generalOfBaseline)}${g.failures.length ? ` (${g.failures.join('; ')})` : ''}`;
  });
}

function protocolLines(reports: SettingReport[]): string[] {
  const lines: string[] = [];
  const of = (setting: string) => reports.find((r) => r.setting === setting);
  const ft = of('finetuned');
  const pt = of('pretrained');
  const su = of('sustainability');
  if (ft) lines.push(`- finetuned: a seeded half of the fictional (fine-tuned) people forgotten in one operation: ${ft.people.forget} forgotten, ${ft.people.retain} retained (paper: 50 of 100).`);
  if (pt) lines.push(`- pretrained: the celebrities version 0 answers best (selectPretrainedTargets), PULSE's proportions 45/153 selected and 20/45 of them forgotten: ${pt.people.forget} forgotten, ${pt.people.retain} retained.`);
  if (su) lines.push(`- sustainability: the finetuned forget set (${su.people.forget} people) in ${su.rounds.length} requests, one unlearn operation and one audit each; sequential continues the previous adapter, cumulative trains a fresh adapter from the base on the union so far.`);
  lines.push(`- Model: ${[...new Set(reports.map((r) => r.model))].join(', ')} (version 0; its own questions decide who is known).`);
  const steps = new Set(reports.map((r) => r.hyperParameters.maxSteps));
  const perRequest = su ? ` (${Math.ceil(su.people.forget / su.rounds.length)} people)` : '';
  lines.push(`- Every operation: the engine's per-method defaults (lethe_worker/config.py), LoRA from the same config, capped at ${[...steps].join('/')} training steps per request's worth of people${perRequest} (--max-steps: the CPU time budget). So an operation on n requests' people trains n times as long as one sequential round (the one-operation settings, cumulative round n): every setting sees its people equally often.`);
  lines.push('- Table 3 (update target) is measured on the one-operation settings; the sustainability curves use the LLM-only LoRA, the engine default (lineages default to projector+llm).');
  return lines;
}

/** Said once wherever a listed run re-forgot (the runs' names only say how many passes). */
function reforgetLines(reports: SettingReport[]): string[] {
  if (!reports.some((r) => r.reforgetPasses)) return [];
  return [`- Re-forgetting (--reforget N): after a sequential request's operation and audit, up to N more operations, each on the people forgotten so far whom the audit still finds above ${GOAL.maxForgottenAccuracy} in either modality (or the run's --reforget-above), continuing the adapter and holding everyone else at the version that last trained on them. A pass that leaves more forgotten people above ${GOAL.maxForgottenAccuracy} than the adapter it continues is dropped and ends the passes. Then up to ${DEFAULT_GATE_POLICY.goal.passes} goal passes, each on just the people still above ${GOAL.maxForgottenAccuracy}, with the log-odds ascent and a seed of its own, kept only if it leaves fewer of them. The audit that picks them is the one reported, as with the service's gate.`];
}

export function renderMarkdown(o: Pick<OutputOptions, 'reports' | 'searched' | 'command' | 'wallSeconds'>): string {
  const findings = evaluateFindings(o.reports);
  const sustain = o.reports.filter((r) => r.setting === 'sustainability');
  return [
    '# PULSE benchmark results on the tiny LLaVA',
    '',
    `Generated by \`${o.command}\` (bench/pulse/cli.ts) in ${(o.wallSeconds / 60).toFixed(1)} min; do not edit by hand, re-run the command.`,
    'Same engine and audit code as the service: lethe_worker.unlearn / export_onnx, scored by src/audits/runtime on onnxruntime-node, metrics from src/audits/domain.',
    'Accuracies are fractions of 4-option multiple-choice questions (chance = 0.25). "forgotten" = 1 - acc/acc(version 0) over everyone forgotten; "kept" = acc/acc(version 0).',
    '',
    '## Protocol as run here (PULSE scaled to the tiny world)',
    '',
    ...protocolLines(o.reports),
    ...reforgetLines([...o.reports, ...o.searched]),
    '',
    '## The paper\'s findings, measured here',
    '',
    ...findings.flatMap((f) => [`${f.id}. ${f.claim} **${f.verdict.toUpperCase()}**`, ...f.evidence.map((e) => `   - ${e}`), '']),
    '## All runs (last operation)',
    '',
    markdownTable(SUMMARY_HEAD, summaryRows(o.reports)),
    '',
    ...(sustain.length ? ['## Sustainability, per round', '', ...sustain.flatMap((r) => [`### ${name(r)}`, '', markdownTable(ROUND_HEAD, roundRows(r)), ''])] : []),
    ...(sustain.length ? [
      '## The goal beyond the paper',
      '',
      `After ${sustain[0].rounds.length} sequential requests: every forgotten person <= ${GOAL.maxForgottenAccuracy} accuracy in both modalities, retain >= ${pct(GOAL.minRetainOfBaseline)} and general >= ${pct(GOAL.minGeneralOfBaseline)} of version 0.`,
      ...chanceLine(sustain),
      '',
      ...goalLines(sustain),
      '',
    ] : []),
    ...(o.searched.length ? [
      '## Strategy search (earlier runs, included with --include)',
      ...chanceLine(o.searched),
      '',
      ...goalLines(o.searched),
      '',
      markdownTable(SUMMARY_HEAD, summaryRows(o.searched)),
      '',
    ] : []),
  ].join('\n');
}

function renderHtml(o: OutputOptions, figs: Figure[]): string {
  const table = (head: string[], rows: string[][]) =>
    `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
  const findings = evaluateFindings(o.reports);
  return `<!doctype html><html><head><meta charset="utf-8"><title>PULSE benchmark</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}th{background:#f4f4f4}</style></head><body>
<h1>PULSE benchmark</h1><p><code>${esc(o.command)}</code> — ${(o.wallSeconds / 60).toFixed(1)} min</p>
<h2>Findings</h2><ol>${findings.map((f) => `<li>${esc(f.claim)} <b>${esc(f.verdict)}</b><ul>${f.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul></li>`).join('')}</ol>
<h2>Runs</h2>${table(SUMMARY_HEAD, summaryRows(o.reports))}
${o.reports.filter((r) => r.setting === 'sustainability').map((r) => `<h3>${esc(name(r))}</h3>${table(ROUND_HEAD, roundRows(r))}`).join('')}
${goalLines([...o.reports, ...o.searched]).length ? `<h2>Goal</h2><ul>${goalLines([...o.reports, ...o.searched]).map((l) => `<li>${esc(l.replace(/^- /, '').replace(/\*\*/g, ''))}</li>`).join('')}</ul>` : ''}
${figs.map((f) => `<h2>${esc(f.title)}</h2><img src="${f.file}" alt="${esc(f.title)}">`).join('\n')}
</body></html>`;
}

export async function writeOutputs(o: OutputOptions): Promise<void> {
  if (o.outDir) {
    fs.mkdirSync(o.outDir, { recursive: true });
    fs.writeFileSync(path.join(o.outDir, 'report.json'), JSON.stringify({ command: o.command, wallSeconds: o.wallSeconds, reports: o.reports, findings: evaluateFindings(o.reports), runs: o.runs }, null, 2));
    const figs = figures(o.reports);
    await rasterise(figs, o.outDir);
    fs.writeFileSync(path.join(o.outDir, 'report.html'), renderHtml(o, figs));
    o.progress(`wrote ${path.join(o.outDir, 'report.json')}, report.html and ${figs.map((f) => f.file).join(', ') || 'no charts'}`);
  }
  if (o.docsFile) {
    fs.mkdirSync(path.dirname(o.docsFile), { recursive: true });
    fs.writeFileSync(o.docsFile, renderMarkdown(o));
    o.progress(`wrote ${o.docsFile}`);
  }
}
