import { Args, Int, Mutation, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, Roles } from '../../auth/api/auth.decorators';
import { Principal } from '../../auth/domain/principal';
import { toLineageModel } from '../../lineages/api/lineage.mapper';
import { ModelLineageModel } from '../../lineages/api/lineage.model';
import { RequestsService } from '../requests.service';

/** A rollback is the requests' business as much as the lineage's: it reopens the requests it undoes. */
@Resolver(() => ModelLineageModel)
export class LineageRollbackResolver {
  constructor(private readonly requests: RequestsService) {}

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
