import { createHmac } from 'node:crypto';
import { canonicalJson } from '../../common/crypto';

export const ENTITY_TYPES = ['request', 'lineage', 'version', 'token', 'webhook'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

/** Which events a page of the log holds; null: any. */
export interface EventFilter {
  entityType: EntityType | null;
  entityId: string | null;
}

/** What a caller records; time, sequence and hashes are added by the log. Never put personal data in `data`. */
export interface NewEvent {
  actor: string;
  type: string;
  entityType: EntityType;
  entityId: string;
  reason?: string | null;
  data?: Record<string, unknown>;
}

export interface LoggedEvent {
  seq: number;
  occurredAt: Date;
  actor: string;
  type: string;
  entityType: EntityType;
  entityId: string;
  reason: string | null;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * hash = HMAC-SHA256(chain key, prev_hash + canonical JSON of everything the row says). The key is
 * kept outside the database, so write access to the database is not enough to rewrite the log and
 * recompute a chain that verifies.
 */
export function eventHash(chainKey: Buffer, prevHash: string, event: Omit<LoggedEvent, 'seq' | 'prevHash' | 'hash'>): string {
  const payload = canonicalJson({
    occurredAt: event.occurredAt.toISOString(),
    actor: event.actor,
    type: event.type,
    entityType: event.entityType,
    entityId: event.entityId,
    reason: event.reason,
    data: event.data,
  });
  return createHmac('sha256', chainKey).update(prevHash + payload).digest('hex');
}

export interface ChainVerification {
  valid: boolean;
  checkedEvents: number;
  /** Sequence number of the first row whose link or hash does not match; null when valid. */
  firstInvalidSeq: number | null;
  problem: string | null;
  headHash: string;
}

/** Walks the chain in sequence order. Feed it pages; it keeps the running state. */
export class ChainVerifier {
  constructor(private readonly chainKey: Buffer) {}

  private expectedPrev = GENESIS_HASH;
  private checked = 0;
  private failure: { seq: number; problem: string } | null = null;

  push(event: LoggedEvent): void {
    if (this.failure) return;
    this.checked += 1;
    if (event.prevHash !== this.expectedPrev) {
      this.failure = { seq: event.seq, problem: 'prev_hash does not match the previous row (a row was removed or reordered)' };
      return;
    }
    if (eventHash(this.chainKey, event.prevHash, event) !== event.hash) {
      this.failure = { seq: event.seq, problem: 'hash does not match the row content under the chain key (the row was altered, or the chain recomputed without the key)' };
      return;
    }
    this.expectedPrev = event.hash;
  }

  result(): ChainVerification {
    return {
      valid: this.failure === null,
      checkedEvents: this.checked,
      firstInvalidSeq: this.failure?.seq ?? null,
      problem: this.failure?.problem ?? null,
      headHash: this.expectedPrev,
    };
  }
}
