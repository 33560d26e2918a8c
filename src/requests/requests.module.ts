import { Module } from '@nestjs/common';
import { LineagesModule } from '../lineages/lineages.module';
import { DeletionRequestsResolver } from './api/deletion-requests.resolver';
import { RequestViews } from './api/request-view';
import { RequestsService } from './requests.service';

/** The GraphQL side of deletion requests: intake, cancel, review, reads. REQUEST_QUEUE comes from RequestQueueHostModule. */
@Module({
  imports: [LineagesModule],
  providers: [RequestsService, RequestViews, DeletionRequestsResolver],
})
export class RequestsModule {}
