import { AuthError } from '../../common/errors';

/** SERVING: model calls (/v1) and champion adapter downloads, nothing else (see AuthGuard). */
export const ROLES = ['REQUESTER', 'OPERATOR', 'AUDITOR', 'SERVING'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: resolved from a bearer token. */
export interface Principal {
  tokenId: string;
  role: Role;
  owner: string;
}

/** A token as operators list it; the token itself is never stored, only its sha256. */
export interface ApiToken {
  id: string;
  role: Role;
  owner: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export const MAX_TOKEN_DAYS = 3650;

/** How a principal appears in the event log. */
export function actorOf(principal: Principal): string {
  return `${principal.role}:${principal.owner}`;
}

/** AUDITORs and OPERATORs see everything; REQUESTERs only what they filed; SERVING nothing of the control plane. */
export function canSeeEverything(principal: Principal): boolean {
  return principal.role === 'AUDITOR' || principal.role === 'OPERATOR';
}

/** Roles that may call only what names them explicitly: a handler without @Roles is not theirs. */
const ONLY_WHERE_NAMED: readonly Role[] = ['SERVING'];

/** `allowed`: the handler's @Roles, or null when it has none (any role but those ONLY_WHERE_NAMED). */
export function assertAllowed(principal: Principal, allowed: readonly Role[] | null, operation: string): void {
  const permitted = allowed ? allowed.includes(principal.role) : !ONLY_WHERE_NAMED.includes(principal.role);
  if (!permitted) throw new AuthError('FORBIDDEN', `${principal.role} may not ${operation}`);
}

export const TOKEN_PREFIX = 'lethe_';
