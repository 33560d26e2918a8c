import { Query, Resolver } from '@nestjs/graphql';
import { Roles } from '../../auth/api/auth.decorators';
import { EventLog } from '../event-log.service';
import { ChainVerificationModel } from './event.model';

@Resolver()
export class EventsResolver {
  constructor(private readonly eventLog: EventLog) {}

  @Query(() => ChainVerificationModel, { description: 'Recomputes every hash of the event log and reports the first break.' })
  @Roles('AUDITOR', 'OPERATOR')
  verifyEventChain(): Promise<ChainVerificationModel> {
    return this.eventLog.verify();
  }
}
