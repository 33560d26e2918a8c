import { InitialSchema1763800000000 } from './1763800000000-initial-schema';
import { ProfileRetention1765100000000 } from './1765100000000-profile-retention';
import { TokenChangeNotify1765150000000 } from './1765150000000-token-change-notify';
import { Serving1765200000000 } from './1765200000000-serving';
import { Webhooks1765300000000 } from './1765300000000-webhooks';

/** Every migration, in order. Listed explicitly (no glob) so the compiled set is exactly this one. */
export const MIGRATIONS = [InitialSchema1763800000000, ProfileRetention1765100000000, TokenChangeNotify1765150000000, Serving1765200000000, Webhooks1765300000000];
