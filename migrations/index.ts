import { InitialSchema1763800000000 } from './1763800000000-initial-schema';
import { ProfileRetention1765100000000 } from './1765100000000-profile-retention';
import { Webhooks1765200000000 } from './1765200000000-webhooks';

/** Every migration, in order. Listed explicitly (no glob) so the compiled set is exactly this one. */
export const MIGRATIONS = [InitialSchema1763800000000, ProfileRetention1765100000000, Webhooks1765200000000];
