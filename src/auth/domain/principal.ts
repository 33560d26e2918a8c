import { AuthError } from '../../common/errors';

export const ROLES = ['REQUESTER', 'OPERATOR', 'AUDITOR'] as const;
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

/** REQUESTERs see only what they filed; AUDITORs and OPERATORs see everything. */
export function canSeeEverything(principal: Principal): boolean {
  return principal.role !== 'REQUESTER';
}

export function assertAllowed(principal: Principal, allowed: readonly Role[], operation: string): void {
  if (!allowed.includes(principal.role)) throw new AuthError('FORBIDDEN', `${principal.role} may not ${operation}`);
}

export const TOKEN_PREFIX = 'lethe_';
