// pRight of the forgotten people against people the model never saw, as inline SVG: one strip of dots
// per group and modality on a 0..1 axis, the median as a bar, chance as a dashed line. Forgotten dots
// that sit with the never-seen ones mean forgotten; dots to the right, still known; to the left, a
// deletion that shows.
import { MODALITIES } from '../domain/eval-item';
import { PerModality, PRightSample } from '../domain/forgetting-report';
import { escapeHtml } from './html';

const WIDTH = 640;
const ROW = 26;
const PAD = { left: 190, right: 16, top: 12, bottom: 34 };

const GROUPS: Array<{ key: keyof PRightSample; label: string; color: string }> = [
  { key: 'forgotten', label: "this request's people", color: '#c0392b' },
  { key: 'cumulativeForgotten', label: 'everyone forgotten', color: '#e67e22' },
  { key: 'neverSeen', label: 'never seen', color: '#2471a3' },
];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function renderPRightChart(pRight: PerModality<PRightSample>, chanceLevel: number): string {
  const rows = MODALITIES.flatMap((modality) => GROUPS.map((g) => ({ modality, ...g, values: pRight[modality][g.key] })));
  if (rows.every((r) => r.values.length === 0)) return '<p class="empty" id="p-right-chart">No per-question probabilities in this audit.</p>';
  const height = PAD.top + rows.length * ROW + PAD.bottom;
  const plotW = WIDTH - PAD.left - PAD.right;
  const x = (v: number) => PAD.left + v * plotW;
  const axis = [0, 0.25, 0.5, 0.75, 1]
    .map((v) => `<line x1="${x(v)}" x2="${x(v)}" y1="${PAD.top}" y2="${height - PAD.bottom}" stroke="#eee"/><text x="${x(v)}" y="${height - PAD.bottom + 14}" text-anchor="middle" font-size="11">${v}</text>`)
    .join('');
  const strips = rows.map((r, i) => {
    const y = PAD.top + i * ROW + ROW / 2;
    // Deterministic jitter: the same report renders the same picture.
    const dots = r.values
      .map((v, k) => `<circle cx="${x(v).toFixed(1)}" cy="${(y + (((k * 7) % 11) - 5) * 1.2).toFixed(1)}" r="2.5" fill="${r.color}" fill-opacity="0.55"/>`)
      .join('');
    const mid = r.values.length ? `<line class="median" x1="${x(median(r.values)).toFixed(1)}" x2="${x(median(r.values)).toFixed(1)}" y1="${y - 9}" y2="${y + 9}" stroke="#222" stroke-width="2"><title>median ${median(r.values).toFixed(3)}</title></line>` : '';
    const label = `<text x="${PAD.left - 8}" y="${y + 4}" text-anchor="end" font-size="11">${escapeHtml(`${r.modality}: ${r.label}`)} (n=${r.values.length})</text>`;
    return `<g class="strip" data-group="${r.key}" data-modality="${r.modality}">${label}${dots}${mid}</g>`;
  }).join('');
  const chance = `<line class="chance" x1="${x(chanceLevel)}" x2="${x(chanceLevel)}" y1="${PAD.top}" y2="${height - PAD.bottom}" stroke="#888" stroke-dasharray="2 3"><title>chance ${chanceLevel}</title></line>`;
  return `<figure class="chart">
<svg id="p-right-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="Probability of the right answer: forgotten people against people the model never saw">
${axis}${chance}${strips}
<text x="${PAD.left + plotW / 2}" y="${height - 4}" text-anchor="middle" font-size="11">probability of the right option (pRight)</text>
</svg>
<figcaption>Each dot is one question; the bar is the median, the dashed line chance. Forgotten people should sit where the never-seen people sit: further right they are still known, further left the deletion itself shows.</figcaption>
</figure>`;
}
