import { Args, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, Roles } from '../../auth/api/auth.decorators';
import { Principal } from '../../auth/domain/principal';
import { toLineageModel } from '../../lineages/api/lineage.mapper';
import { ModelLineageModel } from '../../lineages/api/lineage.model';
import { RequestsService } from '../requests.service';

@ObjectType('RollbackPreview', { description: 'What rollbackModel would do now, by the rules it runs with; nothing is changed' })
export class RollbackPreviewModel {
  @Field() lineage!: string;
  @Field(() => Int) toVersion!: number;
  @Field(() => [Int], { description: 'the versions that would become ROLLED_BACK' }) rolledBackVersions!: number[];
  @Field(() => [ID], { description: 'the COMPLETED requests that would be REOPENED and queued again, oldest first' }) reopenedRequestIds!: string[];
  @Field(() => String, { nullable: true, description: 'why rollbackModel would be refused with CONFLICT; null when it would run' }) conflict!: string | null;
}

/** A rollback is the requests' business as much as the lineage's: it reopens the requests it undoes. */
@Resolver(() => ModelLineageModel)
export class LineageRollbackResolver {
  constructor(private readonly requests: RequestsService) {}

  @Query(() => RollbackPreviewModel, { description: 'The versions a rollback to toVersion would undo and the requests it would reopen, or the CONFLICT it would meet' })
  @Roles('OPERATOR')
  async rollbackPreview(@Args('lineage') lineage: string, @Args('toVersion', { type: () => Int }) toVersion: number): Promise<RollbackPreviewModel> {
    const preview = await this.requests.previewRollback(lineage, toVersion);
    return {
      lineage,
      toVersion,
      rolledBackVersions: preview.rolledBack.map((v) => v.number),
      reopenedRequestIds: preview.reopened.map((r) => r.id),
      conflict: preview.conflict,
    };
  }

  @Mutation(() => ModelLineageModel, { description: 'Moves the champion back; later versions are ROLLED_BACK and the requests they carried out are REOPENED and queued again' })
  @Roles('OPERATOR')
  async rollbackModel(
    @Args('lineage') lineage: string,
    @Args('toVersion', { type: () => Int }) toVersion: number,
    @Args('reason') reason: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ModelLineageModel> {
    return toLineageModel(await this.requests.rollback(lineage, toVersion, reason, principal), principal);
  }
}
