import { Inject, Injectable } from '@nestjs/common';
import { Db } from '../database/sql';
import { ChainVerification, ChainVerifier, EntityType, LoggedEvent, NewEvent } from './domain/event';
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

  /** Several events of one change, in this order: the chain's lock is taken once. */
  appendMany(tx: Db, events: readonly NewEvent[]): Promise<LoggedEvent[]> {
    return this.events.appendMany(tx, events);
  }

  eventsOf(entityType: EntityType, entityId: string): Promise<LoggedEvent[]> {
    return this.events.listFor(entityType, entityId);
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
