// What an activity's heartbeat says of its progress. The Python GPU worker heartbeats "step/total" each training
// (or export) step (gpu-worker/lethe_worker/activities.py); the audit heartbeats {scored, total} between scoring
// batches (src/audits/application/audit-activities.ts).
export interface HeartbeatCount {
  step: number;
  total: number;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;

/** The step and total a heartbeat carries, or null when it carries none (or something else). */
export function heartbeatCount(details: unknown): HeartbeatCount | null {
  if (typeof details === 'string') {
    const match = /^(\d+)\/(\d+)$/.exec(details.trim());
    return match ? { step: Number(match[1]), total: Number(match[2]) } : null;
  }
  if (details && typeof details === 'object') {
    const { scored, total } = details as { scored?: unknown; total?: unknown };
    if (isCount(scored) && isCount(total)) return { step: scored, total };
  }
  return null;
}
