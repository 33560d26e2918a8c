/** The events the deadline sweep raises, once per request and kind. */
export const DEADLINE_EVENTS = { DUE_SOON: 'request.due_soon', OVERDUE: 'request.overdue' } as const;
export type DeadlineKind = keyof typeof DEADLINE_EVENTS;

const DAY_MS = 24 * 3600 * 1000;

/** [from, to) of due dates each notice covers at `now`: due soon is not yet overdue. */
export function deadlineWindows(now: Date, dueSoonDays: number): Record<DeadlineKind, { from: Date | null; to: Date }> {
  return { OVERDUE: { from: null, to: now }, DUE_SOON: { from: now, to: new Date(now.getTime() + dueSoonDays * DAY_MS) } };
}
