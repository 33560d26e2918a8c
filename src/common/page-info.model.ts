import type { Type } from '@nestjs/common';
import { Field, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('PageInfo')
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true, description: 'pass as `after` to get the next page' }) endCursor!: string | null;
}

export interface Connection<N> {
  edges: Array<{ cursor: string; node: N }>;
  pageInfo: PageInfo;
  totalCount: number;
}

/** The `<Name>Edge` and `<Name>Connection` GraphQL types of a paged list of `node`. */
export function connectionOf<N>(node: Type<N>, name: string): Type<Connection<N>> {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field() cursor!: string;
    @Field(() => node) node!: N;
  }
  @ObjectType(`${name}Connection`)
  class ConnectionType {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    @Field(() => Int) totalCount!: number;
  }
  return ConnectionType;
}
