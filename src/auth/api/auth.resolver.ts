import { Args, Field, Mutation, ObjectType, registerEnumType, Resolver } from '@nestjs/graphql';
import { AuthService } from '../auth.service';
import { actorOf, Principal } from '../domain/principal';
import { CurrentPrincipal, Roles } from './auth.decorators';

export enum RoleEnum {
  REQUESTER = 'REQUESTER',
  OPERATOR = 'OPERATOR',
  AUDITOR = 'AUDITOR',
}
registerEnumType(RoleEnum, { name: 'Role' });

@ObjectType('ApiToken')
export class ApiTokenModel {
  @Field({ description: 'The bearer token. Shown only in this response; only its sha256 is stored.' }) token!: string;
  @Field(() => RoleEnum) role!: RoleEnum;
  @Field() owner!: string;
}

@Resolver()
export class AuthResolver {
  constructor(private readonly auth: AuthService) {}

  @Mutation(() => ApiTokenModel)
  @Roles('OPERATOR')
  async createApiToken(
    @Args('role', { type: () => RoleEnum }) role: RoleEnum,
    @Args('owner') owner: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ApiTokenModel> {
    const { token, principal: created } = await this.auth.issueToken(role, owner, actorOf(principal));
    return { token, role: created.role as RoleEnum, owner: created.owner };
  }
}
