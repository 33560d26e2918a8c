import type { Principal } from './principal';

/**
 * How long a token found valid is believed without asking the database again. Revocation and any
 * other change of a token row are pushed to every API process at once (ApiTokenRepository's
 * listener) and evicted; this bounds the staleness should that push be lost (the listener's
 * connection down). It also bounds how late `lastUsedAt` is noted: a miss notes the use.
 */
export const PRINCIPAL_CACHE_MS = 1000;
/** Tokens remembered at most; the oldest go first. */
export const PRINCIPAL_CACHE_ENTRIES = 10_000;

interface Entry {
  principal: Principal;
  expiresAt: Date | null;
  foundAt: number;
}

/** Valid tokens by the sha256 of the token: authentication without a round trip on most calls. */
export class PrincipalCache {
  private readonly byHash = new Map<string, Entry>();
  private readonly hashById = new Map<string, string>();

  constructor(
    private readonly maxAgeMs = PRINCIPAL_CACHE_MS,
    private readonly maxEntries = PRINCIPAL_CACHE_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  /** The principal, unless unknown here, older than maxAgeMs or past the token's expiry. */
  get(tokenSha256: string): Principal | null {
    const entry = this.byHash.get(tokenSha256);
    if (!entry) return null;
    const now = this.now();
    if (now - entry.foundAt >= this.maxAgeMs || (entry.expiresAt !== null && entry.expiresAt.getTime() <= now)) {
      this.delete(tokenSha256, entry.principal.tokenId);
      return null;
    }
    return entry.principal;
  }

  set(tokenSha256: string, principal: Principal, expiresAt: Date | null): void {
    this.forgetToken(principal.tokenId);
    this.byHash.delete(tokenSha256);
    if (this.byHash.size >= this.maxEntries) {
      const [oldest, entry] = this.byHash.entries().next().value!;
      this.delete(oldest, entry.principal.tokenId);
    }
    this.byHash.set(tokenSha256, { principal, expiresAt, foundAt: this.now() });
    this.hashById.set(principal.tokenId, tokenSha256);
  }

  /** The token changed (revoked, expiry moved, deleted): the next call asks the database. */
  forgetToken(tokenId: string): void {
    const hash = this.hashById.get(tokenId);
    if (hash !== undefined) this.delete(hash, tokenId);
  }

  clear(): void {
    this.byHash.clear();
    this.hashById.clear();
  }

  get size(): number {
    return this.byHash.size;
  }

  private delete(tokenSha256: string, tokenId: string): void {
    this.byHash.delete(tokenSha256);
    this.hashById.delete(tokenId);
  }
}
