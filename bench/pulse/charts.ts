// The report's figures as standalone SVG (pure string building): PULSE Figure 4 (normalised bars),
// Table 3 (modality x update target) and Figure 5 (per-round curves, both strategies side by side).
import type { ModalityAccuracy } from './harness';
import type { SettingReport } from './report';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const FONT = 'font-family="DejaVu Sans, Arial, sans-serif"';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} font-size="12" ${attrs}>${esc(s)}</text>`;
}

const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);

/** PULSE Figure 4's normalisation: forget as the fraction forgotten, the rest as the fraction kept. */
export function normalisedBars(r: SettingReport): { label: string; value: number | null }[] {
  const last = r.rounds[r.rounds.length - 1];
  const forgotten = (m: keyof ModalityAccuracy) => {
    const kept = ratio(last.cumulativeForget[m], r.baseline.forget[m]);
    return kept === null ? null : 1 - kept;
  };
  return [
    { label: 'forget MM (% forgotten)', value: forgotten('multimodal') },
    { label: 'forget text (% forgotten)', value: forgotten('text') },
    { label: 'retain MM (% kept)', value: ratio(last.retain.multimodal, r.baseline.retain.multimodal) },
    { label: 'retain text (% kept)', value: ratio(last.retain.text, r.baseline.retain.text) },
    { label: 'general (% kept)', value: ratio(last.general, r.baseline.general) },
  ];
}

/** Figure 4: one panel per setting, a group of bars per method. */
export function figure4Svg(reports: SettingReport[]): string {
  const panels = [...new Set(reports.map((r) => r.setting))];
  const groupW = 130;
  const panelH = 240;
  const top = 40;
  const left = 50;
  const maxGroups = Math.max(1, ...panels.map((s) => reports.filter((r) => r.setting === s).length));
  const width = left + maxGroups * groupW + 230;
  const height = top + panels.length * (panelH + 60);
  const out: string[] = [];
  const barNames = normalisedBars(reports[0]).map((b) => b.label);
  panels.forEach((setting, p) => {
    const y0 = top + p * (panelH + 60);
    const plotBottom = y0 + panelH;
    const yOf = (v: number) => plotBottom - Math.max(0, Math.min(1.2, v)) / 1.2 * panelH;
    out.push(text(left, y0 - 10, `${setting} (after the last operation)`, 'font-weight="bold"'));
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      out.push(`<line x1="${left}" x2="${left + maxGroups * groupW}" y1="${yOf(tick)}" y2="${yOf(tick)}" stroke="#ddd"/>`);
      out.push(text(left - 40, yOf(tick) + 4, `${tick * 100}%`));
    }
    reports.filter((r) => r.setting === setting).forEach((r, g) => {
      const bars = normalisedBars(r);
      const bw = (groupW - 20) / bars.length;
      bars.forEach((b, i) => {
        const x = left + g * groupW + 10 + i * bw;
        if (b.value === null) {
          out.push(text(x, plotBottom - 4, 'n/a', 'font-size="9"'));
          return;
        }
        out.push(`<rect x="${x.toFixed(1)}" y="${yOf(b.value).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(plotBottom - yOf(b.value)).toFixed(1)}" fill="${COLORS[i]}"><title>${esc(`${r.method} ${b.label}: ${Math.round(b.value * 100)}%`)}</title></rect>`);
      });
      const name = `${r.method}${r.strategy ? ` ${r.strategy}` : ''}${r.targets !== 'llm' ? ` (${r.targets})` : ''}`;
      out.push(text(left + g * groupW + groupW / 2, plotBottom + 16, name, 'text-anchor="middle"'));
    });
  });
  barNames.forEach((name, i) => {
    const x = left + maxGroups * groupW + 20;
    out.push(`<rect x="${x}" y="${top + i * 20}" width="12" height="12" fill="${COLORS[i]}"/>`);
    out.push(text(x + 18, top + i * 20 + 11, name));
  });
  return svg(width, height, out);
}

export interface Table3Row {
  targets: string;
  method: string;
  forgetMultimodal: number | null;
  forgetText: number | null;
  general: number | null;
}

/** Table 3's rows: version 0, then every (update target, method), for one setting. */
export function table3Rows(reports: SettingReport[]): Table3Row[] {
  if (reports.length === 0) return [];
  const before = reports[0].baseline;
  const rows: Table3Row[] = [{ targets: 'before unlearning', method: '-', forgetMultimodal: before.forget.multimodal, forgetText: before.forget.text, general: before.general }];
  for (const r of reports) {
    const last = r.rounds[r.rounds.length - 1];
    rows.push({ targets: r.targets, method: r.method, forgetMultimodal: last.forget.multimodal, forgetText: last.forget.text, general: last.general });
  }
  return rows;
}

export function table3Svg(title: string, rows: Table3Row[]): string {
  const cols = ['update target', 'method', 'forget MM acc ↓', 'forget text acc ↓', 'general acc ↑'];
  const widths = [150, 90, 130, 130, 120];
  const rowH = 24;
  const out: string[] = [text(10, 20, title, 'font-weight="bold"')];
  const cell = (row: number, values: string[], bold: boolean) => {
    let x = 10;
    values.forEach((v, i) => {
      out.push(text(x + 6, 40 + row * rowH + 16, v, bold ? 'font-weight="bold"' : ''));
      x += widths[i];
    });
    out.push(`<line x1="10" x2="${x}" y1="${40 + (row + 1) * rowH}" y2="${40 + (row + 1) * rowH}" stroke="#bbb"/>`);
  };
  cell(0, cols, true);
  const f = (v: number | null) => (v === null ? 'n/a' : (v * 100).toFixed(1));
  rows.forEach((r, i) => cell(i + 1, [r.targets, r.method, f(r.forgetMultimodal), f(r.forgetText), f(r.general)], false));
  return svg(10 + widths.reduce((a, b) => a + b, 0) + 10, 40 + (rows.length + 1) * rowH + 10, out);
}

type CurveMetric = { title: string; value: (r: SettingReport, round: number) => number | null };

/** Figure 5's rows: what erodes (general, retain) and what should stay forgotten. */
export const FIGURE5_METRICS: CurveMetric[] = [
  {
    title: 'general, % of version 0',
    value: (r, i) => ratio(r.rounds[i].general, r.baseline.general),
  },
  {
    title: 'retain, % of version 0',
    value: (r, i) => meanOf([ratio(r.rounds[i].retain.multimodal, r.baseline.retain.multimodal), ratio(r.rounds[i].retain.text, r.baseline.retain.text)]),
  },
  {
    title: 'forgotten so far: accuracy',
    value: (r, i) => meanOf([r.rounds[i].cumulativeForget.multimodal, r.rounds[i].cumulativeForget.text]),
  },
];

function meanOf(values: (number | null)[]): number | null {
  return values.some((v) => v === null) ? null : (values as number[]).reduce((a, b) => a + b, 0) / values.length;
}

/** Figure 5: metric rows x strategy columns, one line per method, x = operation number. */
export function figure5Svg(reports: SettingReport[]): string {
  const strategies = [...new Set(reports.map((r) => r.strategy ?? 'sequential'))];
  const methods = [...new Set(reports.map((r) => r.method))];
  const pw = 300;
  const ph = 170;
  const left = 60;
  const top = 40;
  const out: string[] = [];
  const rounds = Math.max(1, ...reports.map((r) => r.rounds.length));
  FIGURE5_METRICS.forEach((metric, row) => {
    strategies.forEach((strategy, col) => {
      const x0 = left + col * (pw + 90);
      const y0 = top + row * (ph + 60);
      const xOf = (round: number) => x0 + (rounds === 1 ? pw / 2 : ((round - 1) / (rounds - 1)) * pw);
      const yOf = (v: number) => y0 + ph - Math.max(0, Math.min(1.2, v)) / 1.2 * ph;
      out.push(text(x0, y0 - 8, `${strategy}: ${metric.title}`, 'font-size="11" font-weight="bold"'));
      out.push(`<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
      for (const tick of [0, 0.5, 1]) {
        out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${yOf(tick)}" y2="${yOf(tick)}" stroke="#eee"/>`);
        out.push(text(x0 - 40, yOf(tick) + 4, tick.toFixed(1), 'font-size="10"'));
      }
      for (let round = 1; round <= rounds; round++) out.push(text(xOf(round) - 3, y0 + ph + 14, String(round), 'font-size="10"'));
      reports.filter((r) => (r.strategy ?? 'sequential') === strategy).forEach((r) => {
        const color = COLORS[methods.indexOf(r.method) % COLORS.length];
        const points = r.rounds
          .map((_, i) => ({ x: xOf(i + 1), v: metric.value(r, i) }))
          .filter((p): p is { x: number; v: number } => p.v !== null)
          .map((p) => `${p.x.toFixed(1)},${yOf(p.v).toFixed(1)}`);
        if (points.length > 0) out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
        points.forEach((pt) => {
          const [cx, cy] = pt.split(',');
          out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
        });
      });
    });
  });
  const legendX = left + strategies.length * (pw + 90);
  methods.forEach((m, i) => {
    out.push(`<line x1="${legendX}" x2="${legendX + 20}" y1="${top + i * 18 + 6}" y2="${top + i * 18 + 6}" stroke="${COLORS[i % COLORS.length]}" stroke-width="3"/>`);
    out.push(text(legendX + 26, top + i * 18 + 10, m));
  });
  out.push(text(left, top + FIGURE5_METRICS.length * (ph + 60) - 20, 'x: deletion request number; y: mean of multimodal and text-only', 'font-size="11"'));
  return svg(legendX + 110, top + FIGURE5_METRICS.length * (ph + 60), out);
}

function svg(width: number, height: number, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}"><rect width="100%" height="100%" fill="white"/>${body.join('')}</svg>`;
}
