import { Args, Field, GraphQLISODateTime, ID, Int, Mutation, ObjectType, Query, registerEnumType, Resolver } from '@nestjs/graphql';
import { pageByCreation } from '../../common/pagination';
import { PageInfo } from '../../common/page-info.model';
import { AuthService } from '../auth.service';
import { actorOf, ApiToken, Principal } from '../domain/principal';
import { CurrentPrincipal, Roles } from './auth.decorators';

export enum RoleEnum {
  REQUESTER = 'REQUESTER',
  OPERATOR = 'OPERATOR',
  AUDITOR = 'AUDITOR',
  SERVING = 'SERVING',
}
registerEnumType(RoleEnum, { name: 'Role', description: 'REQUESTER: its own requests; AUDITOR: reads everything; OPERATOR: everything; SERVING: only the model endpoints (/v1, champion manifest and adapter download), no GraphQL' });

@ObjectType('ApiToken')
export class ApiTokenModel {
  @Field(() => ID) id!: string;
  @Field(() => String, { nullable: true, description: 'The bearer token: only in createApiToken\'s response (only its sha256 is stored), null elsewhere.' }) token!: string | null;
  @Field(() => RoleEnum) role!: RoleEnum;
  @Field() owner!: string;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'last authenticated call, to the minute' }) lastUsedAt!: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'refused from then on; null: no expiry' }) expiresAt!: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) revokedAt!: Date | null;
}

@ObjectType('Viewer', { description: 'The caller, as its bearer token names it' })
export class ViewerModel {
  @Field(() => RoleEnum) role!: RoleEnum;
  @Field() owner!: string;
}

@ObjectType('ApiTokenEdge')
export class ApiTokenEdge {
  @Field() cursor!: string;
  @Field(() => ApiTokenModel) node!: ApiTokenModel;
}

@ObjectType('ApiTokenConnection')
export class ApiTokenConnection {
  @Field(() => [ApiTokenEdge]) edges!: ApiTokenEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

function toModel(token: ApiToken, plain: string | null = null): ApiTokenModel {
  return { ...token, token: plain, role: token.role as RoleEnum };
}


@Resolver()
export class AuthResolver {
  constructor(private readonly auth: AuthService) {}

  @Query(() => ViewerModel, { description: 'Who the bearer token belongs to: clients (the console) show what the role may do' })
  viewer(@CurrentPrincipal() principal: Principal): ViewerModel {
    return { role: principal.role as RoleEnum, owner: principal.owner };
  }

  @Mutation(() => ApiTokenModel)
  @Roles('OPERATOR')
  async createApiToken(
    @Args('role', { type: () => RoleEnum }) role: RoleEnum,
    @Args('owner') owner: string,
    @CurrentPrincipal() principal: Principal,
    @Args('expiresInDays', { type: () => Int, nullable: true, description: 'refused after this many days; omitted: no expiry' }) expiresInDays?: number | null,
  ): Promise<ApiTokenModel> {
    const { token, issued } = await this.auth.issueToken(role, owner, actorOf(principal), expiresInDays ?? null);
    return toModel(issued, token);
  }

  @Mutation(() => ApiTokenModel, { description: 'The token is refused from the next call on' })
  @Roles('OPERATOR')
  async revokeApiToken(@Args('id', { type: () => ID }) id: string, @CurrentPrincipal() principal: Principal): Promise<ApiTokenModel> {
    return toModel(await this.auth.revokeToken(id, actorOf(principal)));
  }

  @Query(() => ApiTokenConnection, { description: 'Every token ever issued, oldest first (never the tokens themselves)' })
  @Roles('OPERATOR')
  async apiTokens(
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ): Promise<ApiTokenConnection> {
    return pageByCreation(first, after, (limit, position) => this.auth.listTokens(limit, position), () => this.auth.countTokens(), (t) => toModel(t));
  }
}
