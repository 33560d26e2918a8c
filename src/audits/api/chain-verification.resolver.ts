// Auditors' check of the evidence chain: the event log is the events feature's, its proof is theirs to ask for.
import { Query, Resolver } from '@nestjs/graphql';
import { Roles } from '../../auth/api/auth.decorators';
import { EventLog } from '../../events/event-log.service';
import { ChainVerificationModel } from '../../events/api/event.model';

@Resolver()
export class ChainVerificationResolver {
  constructor(private readonly eventLog: EventLog) {}

  @Query(() => ChainVerificationModel, { description: 'Recomputes every hash of the event log and reports the first break.' })
  @Roles('AUDITOR', 'OPERATOR')
  verifyEventChain(): Promise<ChainVerificationModel> {
    return this.eventLog.verify();
  }
}
