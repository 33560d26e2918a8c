import { Field, GraphQLISODateTime, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLJSON } from '../../common/json.scalar';
import { PageInfo } from '../../common/page-info.model';

@ObjectType('Event', { description: 'One row of the append-only, hash-chained event log.' })
export class EventModel {
  @Field(() => ID) seq!: number;
  @Field(() => GraphQLISODateTime) occurredAt!: Date;
  @Field() actor!: string;
  @Field() type!: string;
  @Field() entityType!: string;
  @Field() entityId!: string;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => GraphQLJSON) data!: Record<string, unknown>;
  @Field() prevHash!: string;
  @Field() hash!: string;
}

@ObjectType('EventChainVerification')
export class ChainVerificationModel {
  @Field() valid!: boolean;
  @Field(() => Int) checkedEvents!: number;
  @Field(() => Int, { nullable: true, description: 'seq of the first row that does not verify' }) firstInvalidSeq!: number | null;
  @Field(() => String, { nullable: true }) problem!: string | null;
  @Field({ description: 'hash of the last verified row: publish it to anchor the log' }) headHash!: string;
}

@ObjectType('EventEdge')
export class EventEdge {
  @Field() cursor!: string;
  @Field(() => EventModel) node!: EventModel;
}

@ObjectType('EventConnection')
export class EventConnection {
  @Field(() => [EventEdge]) edges!: EventEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}
