// Auditors' view of the evidence chain: the event log is the events feature's, reading it whole and
// asking for its proof are the auditors'.
import { Args, Int, Query, Resolver } from '@nestjs/graphql';
import { Roles } from '../../auth/api/auth.decorators';
import { decodeCursor, encodeCursor, pageSize } from '../../common/pagination';
import { ChainVerificationModel, EventConnection } from '../../events/api/event.model';
import { ENTITY_TYPES } from '../../events/domain/event';
import { EventLog } from '../../events/event-log.service';

@Resolver()
export class ChainVerificationResolver {
  constructor(private readonly log: EventLog) {}

  @Query(() => ChainVerificationModel, { description: 'Recomputes every hash of the event log and reports the first break.' })
  @Roles('AUDITOR', 'OPERATOR')
  verifyEventChain(): Promise<ChainVerificationModel> {
    return this.log.verify();
  }

  @Query(() => EventConnection, { description: `The whole event log, newest first; entityType (${ENTITY_TYPES.join(', ')}) and entityId narrow it to one kind of entity or one entity` })
  @Roles('AUDITOR', 'OPERATOR')
  async eventLog(
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
    @Args('entityType', { type: () => String, nullable: true }) entityType?: string,
    @Args('entityId', { type: () => String, nullable: true }) entityId?: string,
  ): Promise<EventConnection> {
    const size = pageSize(first);
    const beforeSeq = decodeCursor(after, (v): v is number => Number.isSafeInteger(v));
    const page = await this.log.page({ entityType: entityType ?? null, entityId: entityId ?? null }, size, beforeSeq);
    const edges = page.events.map((e) => ({ cursor: encodeCursor(e.seq), node: e }));
    return { edges, totalCount: page.totalCount, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }
}
