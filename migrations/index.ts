import { InitialSchema1763800000000 } from './1763800000000-initial-schema';
import { EventLogAppendOnly1763800000001 } from './1763800000001-event-log-append-only';
import { Reforget1763800000002 } from './1763800000002-reforget';
import { ReforgetAbove1763800000003 } from './1763800000003-reforget-above';
import { RequestOutbox1763800000004 } from './1763800000004-request-outbox';

/** Every migration, in order. Listed explicitly (no glob) so the compiled set is exactly this one. */
export const MIGRATIONS = [InitialSchema1763800000000, EventLogAppendOnly1763800000001, Reforget1763800000002, ReforgetAbove1763800000003, RequestOutbox1763800000004];
