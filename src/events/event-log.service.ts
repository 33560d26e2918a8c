import { Inject, Injectable } from '@nestjs/common';
import { Db } from '../database/sql';
import { InputError } from '../common/errors';
import { ChainVerification, ChainVerifier, ENTITY_TYPES, EntityType, EventFilter, LoggedEvent, NewEvent } from './domain/event';
import { CHAIN_KEY } from './chain-key';
import { EventLogRepository } from './persistence/event-log.repository';

/**
 * Told of every event inside the transaction that appends it, so what an event causes (a webhook
 * delivery to make) commits or rolls back with it. Must not append events itself.
 */
export interface AppendObserver {
  appended(tx: Db, event: LoggedEvent): Promise<void>;
}

@Injectable()
export class EventLog {
  private readonly observers: AppendObserver[] = [];

  constructor(
    private readonly events: EventLogRepository,
    @Inject(CHAIN_KEY) private readonly chainKey: Buffer,
  ) {}

  async append(tx: Db, event: NewEvent): Promise<LoggedEvent> {
    const logged = await this.events.append(tx, event);
    await this.tellObservers(tx, [logged]);
    return logged;
  }

  /** Registered once at start by the feature that reacts to events (notifications). */
  observe(observer: AppendObserver): void {
    this.observers.push(observer);
  }

  /** Several events of one change, in this order: the chain's lock is taken once. */
  async appendMany(tx: Db, events: readonly NewEvent[]): Promise<LoggedEvent[]> {
    const logged = await this.events.appendMany(tx, events);
    await this.tellObservers(tx, logged);
    return logged;
  }

  private async tellObservers(tx: Db, logged: readonly LoggedEvent[]): Promise<void> {
    for (const event of logged) for (const observer of this.observers) await observer.appended(tx, event);
  }

  eventsOf(entityType: EntityType, entityId: string): Promise<LoggedEvent[]> {
    return this.events.listFor(entityType, entityId);
  }

  /** One page of the whole log, newest first; `beforeSeq` is the last seq of the page before (null: from the head). */
  async page(filter: { entityType: string | null; entityId: string | null }, first: number, beforeSeq: number | null): Promise<{ events: LoggedEvent[]; totalCount: number; hasNextPage: boolean }> {
    const entityType = filter.entityType?.trim() || null;
    if (entityType !== null && !ENTITY_TYPES.includes(entityType as EntityType)) throw new InputError('entityType', `must be one of ${ENTITY_TYPES.join(', ')}`);
    const checked: EventFilter = { entityType: entityType as EntityType | null, entityId: filter.entityId?.trim() || null };
    const page = await this.events.pageBefore(beforeSeq, first + 1, checked);
    return { events: page.slice(0, first), totalCount: await this.events.count(checked), hasNextPage: page.length > first };
  }

  /** The chain head now: a document that records it is anchored to the log as it was. */
  head(): Promise<{ seq: number; hash: string }> {
    return this.events.head();
  }

  async verify(): Promise<ChainVerification> {
    const verifier = new ChainVerifier(this.chainKey);
    for (let after = 0; ; ) {
      const page = await this.events.pageAfter(after, 1000);
      if (page.length === 0) break;
      page.forEach((event) => verifier.push(event));
      after = page[page.length - 1].seq;
    }
    return verifier.result();
  }
}
