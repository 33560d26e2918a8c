import { Args, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, Roles } from '../../auth/api/auth.decorators';
import { Principal } from '../../auth/domain/principal';
import { decodeCursor, encodeCursor, pageSize } from '../../common/pagination';
import { EventModel } from '../../events/api/event.model';
import { EventLog } from '../../events/event-log.service';
import { ModelVersionModel } from '../../lineages/api/lineage.model';
import { ModelVersionsService } from '../../lineages/model-versions.service';
import { DeletionRequest } from '../domain/deletion-request';
import { ForgetSets } from '../forget-sets.service';
import { RequestsService } from '../requests.service';
import {
  DeletionRequestConnection,
  DeletionRequestFilter,
  DeletionRequestModel,
  RequestProgressModel,
  ReviewDecisionEnum,
  SubmitDeletionRequestInput,
} from './deletion-request.model';
import { RequestViews } from './request-view';

type CursorPosition = [string, string];
const isCursor = (v: unknown): v is CursorPosition => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string') && !Number.isNaN(Date.parse(v[0] as string));

@Resolver(() => DeletionRequestModel)
export class DeletionRequestsResolver {
  constructor(
    private readonly requests: RequestsService,
    private readonly forgetSets: ForgetSets,
    private readonly versions: ModelVersionsService,
    private readonly eventLog: EventLog,
    private readonly views: RequestViews,
  ) {}

  @Mutation(() => DeletionRequestModel, { description: 'Files a deletion request; returns once it is stored (RECEIVED), and it is queued on its lineage right after, even across a Temporal outage' })
  @Roles('REQUESTER', 'OPERATOR')
  async submitDeletionRequest(@Args('input') input: SubmitDeletionRequestInput, @CurrentPrincipal() principal: Principal): Promise<DeletionRequestModel> {
    return this.views.request(await this.requests.submit(input, principal), principal);
  }

  @Mutation(() => DeletionRequestModel, { description: 'Withdraws a request before unlearning starts' })
  @Roles('REQUESTER', 'OPERATOR')
  async cancelDeletionRequest(@Args('id', { type: () => ID }) id: string, @Args('reason') reason: string, @CurrentPrincipal() principal: Principal): Promise<DeletionRequestModel> {
    return this.views.request(await this.requests.cancel(id, reason, principal), principal);
  }

  @Mutation(() => DeletionRequestModel, { description: 'Decides on a request the gate held for review (NEEDS_REVIEW)' })
  @Roles('OPERATOR')
  async reviewDeletionRequest(
    @Args('id', { type: () => ID }) id: string,
    @Args('decision', { type: () => ReviewDecisionEnum }) decision: ReviewDecisionEnum,
    @Args('reason') reason: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeletionRequestModel> {
    return this.views.request(await this.requests.review(id, decision, reason, principal), principal);
  }

  @Query(() => DeletionRequestModel)
  async deletionRequest(@Args('id', { type: () => ID }) id: string, @CurrentPrincipal() principal: Principal): Promise<DeletionRequestModel> {
    return this.views.request(await this.requests.get(id, principal), principal);
  }

  @Query(() => DeletionRequestConnection, { description: 'Oldest first. A REQUESTER sees only its own requests.' })
  async deletionRequests(
    @CurrentPrincipal() principal: Principal,
    @Args('filter', { type: () => DeletionRequestFilter, nullable: true }) filter?: DeletionRequestFilter,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ): Promise<DeletionRequestConnection> {
    const size = pageSize(first);
    const position = decodeCursor(after, isCursor);
    const page = await this.requests.page(
      { statuses: filter?.status ?? undefined, lineage: filter?.lineage ?? undefined, requester: filter?.requester ?? undefined },
      size,
      position && { receivedAt: new Date(position[0]), id: position[1] },
      principal,
    );
    const edges = await Promise.all(page.requests.map(async (r) => ({ cursor: encodeCursor([r.receivedAt.toISOString(), r.id]), node: await this.views.request(r, principal) })));
    return { edges, totalCount: page.totalCount, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  @ResolveField(() => String, { nullable: true, description: 'null once the personal data was purged' })
  subjectName(@Parent() request: DeletionRequestModel): Promise<string | null> {
    return this.forgetSets.subjectName({ id: request.id, datasetSubjectName: request.datasetSubjectName } as DeletionRequest);
  }

  @ResolveField(() => String, { nullable: true })
  note(@Parent() request: DeletionRequestModel): Promise<string | null> {
    return this.forgetSets.note({ id: request.id } as DeletionRequest);
  }

  @ResolveField(() => ModelVersionModel, { nullable: true, description: 'the model version that carried the request out' })
  async modelVersion(@Parent() request: DeletionRequestModel, @CurrentPrincipal() principal: Principal): Promise<ModelVersionModel | null> {
    if (!request.modelVersionId) return null;
    const version = await this.versions.findVersionById(request.modelVersionId);
    return version && this.views.version(request, version, principal);
  }

  @ResolveField(() => RequestProgressModel, { nullable: true, description: 'while UNLEARNING or AUDITING: the running step\'s phase and its activity\'s last heartbeat (null otherwise, or while the workflow cannot be asked)' })
  async progress(@Parent() request: DeletionRequestModel): Promise<RequestProgressModel | null> {
    return this.requests.progress(request);
  }

  @ResolveField(() => [EventModel], { description: 'the request\'s history from the event log' })
  async events(@Parent() request: DeletionRequestModel, @CurrentPrincipal() principal: Principal): Promise<EventModel[]> {
    return this.views.events(request, await this.eventLog.eventsOf('request', request.id), principal);
  }
}
