// The lineage's sustainability curve as inline SVG (no scripts, no external assets): accuracy per
// version for the cumulative forget set (both modalities), the retain set and the general set,
// with the chance level as a dashed line.
import { SustainabilityPoint } from '../domain/report';
import { escapeHtml } from './html';

export interface ChartSeries {
  key: string;
  label: string;
  color: string;
  dashed: boolean;
  value(p: SustainabilityPoint): number | null;
}

export const CHART_SERIES: ChartSeries[] = [
  { key: 'forget-multimodal', label: 'cumulative forget, multimodal', color: '#c0392b', dashed: false, value: (p) => p.cumulativeForget.multimodal },
  { key: 'forget-text', label: 'cumulative forget, text', color: '#e67e22', dashed: true, value: (p) => p.cumulativeForget.text },
  { key: 'retain-multimodal', label: 'retain, multimodal', color: '#2471a3', dashed: false, value: (p) => p.retain.multimodal },
  { key: 'retain-text', label: 'retain, text', color: '#5dade2', dashed: true, value: (p) => p.retain.text },
  { key: 'general', label: 'general', color: '#1e8449', dashed: false, value: (p) => p.general },
];

const WIDTH = 640;
const HEIGHT = 300;
const PAD = { left: 48, right: 16, top: 16, bottom: 40 };

export function renderSustainabilityChart(points: SustainabilityPoint[], chanceLevel: number): string {
  if (points.length === 0) return '<p class="empty">No audited versions yet.</p>';
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (points.length === 1 ? plotW / 2 : (i * plotW) / (points.length - 1));
  const y = (v: number) => PAD.top + (1 - v) * plotH;
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((v) => `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v * 100}%</text>`)
    .join('');
  const xLabels = points
    .map((p, i) => `<text x="${x(i)}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle" font-size="11">v${p.version}</text>`)
    .join('');
  const chance = `<line class="chance" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(chanceLevel)}" y2="${y(chanceLevel)}" stroke="#888" stroke-dasharray="2 3"><title>chance ${(chanceLevel * 100).toFixed(0)}%</title></line>`;
  const series = CHART_SERIES.map((s) => {
    const pts = points.flatMap((p, i) => {
      const v = s.value(p);
      return v === null || !Number.isFinite(v) ? [] : [[x(i), y(v), v, p.version] as const];
    });
    const line = pts.length > 1
      ? `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''} points="${pts.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}"/>`
      : '';
    const dots = pts
      .map(([px, py, v, version]) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${s.color}"><title>${escapeHtml(s.label)} v${version}: ${(v * 100).toFixed(1)}%</title></circle>`)
      .join('');
    return `<g class="series" data-series="${s.key}">${line}${dots}</g>`;
  }).join('');
  const legend = CHART_SERIES.map(
    (s) => `<span class="legend-item"><svg width="18" height="8"><line x1="0" x2="18" y1="4" y2="4" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/></svg> ${escapeHtml(s.label)}</span>`,
  ).join(' ');
  return `<figure class="chart">
<svg id="sustainability-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="Sustainability curve: accuracy per version">
${grid}${chance}${xLabels}${series}
</svg>
<figcaption>${legend} <span class="legend-item">··· chance</span></figcaption>
</figure>`;
}
