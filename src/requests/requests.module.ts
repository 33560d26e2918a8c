import { DynamicModule, Module, Type } from '@nestjs/common';
import { LineagesModule } from '../lineages/lineages.module';
import { DeletionRequestsResolver } from './api/deletion-requests.resolver';
import { LineageRollbackResolver } from './api/lineage-rollback.resolver';
import { ForgetSets } from './forget-sets.service';
import { IntakeWriter } from './intake-writer.service';
import { DeletionRequestRepository } from './persistence/deletion-request.repository';
import { ForgetSetRepository } from './persistence/forget-set.repository';
import { RequestLifecycle } from './request-lifecycle.service';
import { RequestOutcomes } from './request-outcomes.service';
import { RequestViews } from './api/request-view';
import { QUEUE_STORED_REQUESTS, RequestQueuer } from './request-queuer.service';
import { RequestsService } from './requests.service';
import { Retention } from './retention.service';
import { RetentionSweeper, SWEEP_RETENTION } from './retention-sweeper.service';
import { RequestDeadlines } from './request-deadlines.service';

/**
 * Deletion requests: intake, status rules, personal data and its retention, and their GraphQL side.
 * `queue` provides the RequestQueue port (domain/request-queue.port.ts): the Temporal one in
 * production, a recording one in tests of the API alone.
 */
@Module({})
export class RequestsModule {
  /**
   * `queueStoredRequests`: run the outbox reconciler (RequestQueuer) in this process. The API does,
   * where submissions kick it; the TypeScript worker needs only the services and leaves it off.
   * `sweepRetention`: purge the inline profiles whose rollback window ended (RetentionSweeper), likewise.
   */
  static withQueue(queue: Type | DynamicModule, { queueStoredRequests = true, sweepRetention = true } = {}): DynamicModule {
    return {
      module: RequestsModule,
      imports: [LineagesModule, queue],
      providers: [
        DeletionRequestRepository,
        ForgetSetRepository,
        RequestLifecycle,
        ForgetSets,
        RequestOutcomes,
        Retention,
        RequestDeadlines,
        IntakeWriter,
        { provide: QUEUE_STORED_REQUESTS, useValue: queueStoredRequests },
        RequestQueuer,
        { provide: SWEEP_RETENTION, useValue: sweepRetention },
        RetentionSweeper,
        RequestsService,
        RequestViews,
        DeletionRequestsResolver,
        LineageRollbackResolver,
      ],
      exports: [LineagesModule, RequestLifecycle, ForgetSets, RequestOutcomes, Retention, RequestDeadlines],
    };
  }
}
