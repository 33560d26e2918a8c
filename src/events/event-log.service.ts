import { Inject, Injectable } from '@nestjs/common';
import { Db } from '../database/sql';
import { InputError } from '../common/errors';
import { ChainVerification, ChainVerifier, ENTITY_TYPES, EntityType, EventFilter, LoggedEvent, NewEvent } from './domain/event';
import { CHAIN_KEY } from './chain-key';
import { EventLogRepository } from './persistence/event-log.repository';

@Injectable()
export class EventLog {
  constructor(
    private readonly events: EventLogRepository,
    @Inject(CHAIN_KEY) private readonly chainKey: Buffer,
  ) {}

  append(tx: Db, event: NewEvent): Promise<LoggedEvent> {
    return this.events.append(tx, event);
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
