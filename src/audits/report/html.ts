// Tiny helpers for the report's plain-TypeScript HTML templates.

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A fraction as a percentage; a missing number is shown as such, never as 0. */
export function percent(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'missing' : `${(value * 100).toFixed(1)}%`;
}

/** A signed difference in percentage points. */
export function points(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const pp = value * 100;
  return `${pp > 0 ? '+' : pp < 0 ? '−' : '±'}${Math.abs(pp).toFixed(1)} pp`;
}

function row(cells: string[], header = false): string {
  const tag = header ? 'th' : 'td';
  return `<tr>${cells.map((c) => `<${tag}${!header && /^(?:[−+±]?[\d.]+ ?(?:%|pp)?|missing|–|\d+\/\d+)$/.test(c) ? ' class="num"' : ''}>${c}</${tag}>`).join('')}</tr>`;
}

/** A table with an id; cells are HTML already (escape text with escapeHtml), headers are escaped here. */
export function table(id: string, header: string[], rows: string[][]): string {
  return `<table id="${id}"><thead>${row(header.map(escapeHtml), true)}</thead><tbody>${rows.map((r) => row(r)).join('')}</tbody></table>`;
}
