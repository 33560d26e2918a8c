import { Args, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, Roles } from '../../auth/api/auth.decorators';
import { actorOf, Principal } from '../../auth/domain/principal';
import { InputError } from '../../common/errors';
import { GraphQLJSON } from '../../common/json.scalar';
import { decodeCursor, encodeCursor, pageSize } from '../../common/pagination';
import { LineagesService } from '../lineages.service';
import { ModelVersionsService } from '../model-versions.service';
import { MAX_SUBJECT_SEARCH_LENGTH, REQUESTER_SUBJECT_SEARCH } from '../domain/lineage';
import { toLineageModel, toLineageSummaryModel, toSubjectModel, toVersionModel } from './lineage.mapper';
import { CreateModelLineageInput, DatasetSubjectConnection, ModelLineageModel, ModelLineageSummaryConnection, ModelVersionModel } from './lineage.model';

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

  @Query(() => ModelLineageSummaryConnection, { description: 'Every lineage by name. A REQUESTER (who may file on any lineage) gets the names only' })
  @Roles('REQUESTER', 'AUDITOR', 'OPERATOR')
  async modelLineages(
    @CurrentPrincipal() principal: Principal,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ): Promise<ModelLineageSummaryConnection> {
    const size = pageSize(first);
    const afterName = decodeCursor(after, (v): v is string => typeof v === 'string');
    const page = await this.lineages.page(size, afterName);
    const edges = page.lineages.map((l) => ({ cursor: encodeCursor(l.name), node: toLineageSummaryModel(l, principal) }));
    return { edges, totalCount: page.totalCount, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  @Query(() => DatasetSubjectConnection, {
    description: `The people in the lineage's dataset, by id; search (at most ${MAX_SUBJECT_SEARCH_LENGTH} characters) matches id or name, any case. AUDITORs and OPERATORs list everyone; a REQUESTER must search (at least ${REQUESTER_SUBJECT_SEARCH.minSearchLength} characters, at most ${REQUESTER_SUBJECT_SEARCH.maxResults} results a page) and never gets NEVER_SEEN people`,
  })
  @Roles('REQUESTER', 'AUDITOR', 'OPERATOR')
  async datasetSubjects(
    @Args('lineage') lineage: string,
    @CurrentPrincipal() principal: Principal,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
    @Args('search', { type: () => String, nullable: true }) search?: string,
  ): Promise<DatasetSubjectConnection> {
    const size = pageSize(first);
    const afterId = decodeCursor(after, (v): v is string => typeof v === 'string');
    const page = await this.lineages.subjectsPage(lineage, { first: size, afterId, search: search ?? null }, principal);
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
