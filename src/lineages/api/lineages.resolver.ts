import { Args, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, Roles } from '../../auth/api/auth.decorators';
import { actorOf, Principal } from '../../auth/domain/principal';
import { InputError } from '../../common/errors';
import { GraphQLJSON } from '../../common/json.scalar';
import { decodeCursor, encodeCursor, pageSize } from '../../common/pagination';
import { LineagesService } from '../lineages.service';
import { ModelVersionsService } from '../model-versions.service';
import { toLineageModel, toSubjectModel, toVersionModel } from './lineage.mapper';
import { CreateModelLineageInput, DatasetSubjectConnection, ModelLineageModel, ModelVersionModel } from './lineage.model';

function reasonText(reason: string, field = 'reason'): string {
  const trimmed = reason.trim();
  if (trimmed.length === 0 || trimmed.length > 2000) throw new InputError(field, 'must be 1 to 2000 characters');
  return trimmed;
}

@Resolver(() => ModelLineageModel)
export class LineagesResolver {
  constructor(
    private readonly lineages: LineagesService,
    private readonly modelVersions: ModelVersionsService,
  ) {}

  @Query(() => ModelLineageModel)
  @Roles('AUDITOR', 'OPERATOR')
  async modelLineage(@Args('name') name: string, @CurrentPrincipal() principal: Principal): Promise<ModelLineageModel> {
    return toLineageModel(await this.lineages.get(name), principal);
  }

  @ResolveField(() => ModelVersionModel, { nullable: true })
  async champion(@Parent() lineage: ModelLineageModel, @CurrentPrincipal() principal: Principal): Promise<ModelVersionModel | null> {
    if (lineage.championVersion === null) return null;
    const version = await this.modelVersions.findVersion(lineage.name, lineage.championVersion);
    return version && toVersionModel(version, principal);
  }

  @ResolveField(() => [ModelVersionModel])
  async versions(@Parent() lineage: ModelLineageModel, @CurrentPrincipal() principal: Principal): Promise<ModelVersionModel[]> {
    return (await this.modelVersions.listVersions(lineage.name)).map((v) => toVersionModel(v, principal));
  }

  @Query(() => DatasetSubjectConnection, { description: 'The people the lineage\'s model was trained on (AUDITORs and OPERATORs: who is in the training data is personal data)' })
  @Roles('AUDITOR', 'OPERATOR')
  async datasetSubjects(
    @Args('lineage') lineage: string,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ): Promise<DatasetSubjectConnection> {
    const size = pageSize(first);
    const afterId = decodeCursor(after, (v): v is string => typeof v === 'string');
    const page = await this.lineages.subjectsPage(lineage, size, afterId);
    const edges = page.subjects.map((s) => ({ cursor: encodeCursor(s.id), node: toSubjectModel(s) }));
    return { edges, totalCount: page.totalCount, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  @Mutation(() => ModelLineageModel)
  @Roles('OPERATOR')
  async createModelLineage(@Args('input') input: CreateModelLineageInput, @CurrentPrincipal() principal: Principal): Promise<ModelLineageModel> {
    return toLineageModel(await this.lineages.create(input, actorOf(principal)), principal);
  }

  @Mutation(() => ModelLineageModel, { description: 'Replaces the gate policy (omitted fields take the defaults) and bumps its version' })
  @Roles('OPERATOR')
  async updateGatePolicy(
    @Args('lineage') lineage: string,
    @Args('gatePolicy', { type: () => GraphQLJSON }) gatePolicy: unknown,
    @Args('reason', { type: () => String, nullable: true }) reason: string | null,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ModelLineageModel> {
    return toLineageModel(await this.lineages.updateGatePolicy(lineage, gatePolicy, reason == null ? null : reasonText(reason), actorOf(principal)), principal);
  }
}
