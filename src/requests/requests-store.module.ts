import { Module } from '@nestjs/common';
import { ForgetSets } from './forget-sets.service';
import { DeletionRequestRepository } from './persistence/deletion-request.repository';
import { ForgetSetRepository } from './persistence/forget-set.repository';
import { RequestLifecycle } from './request-lifecycle.service';

/**
 * Request persistence and status rules, without the API: imported by lineages (promotion and
 * rollback move request statuses), by the orchestration activities and by audits.
 */
@Module({
  providers: [DeletionRequestRepository, ForgetSetRepository, RequestLifecycle, ForgetSets],
  exports: [DeletionRequestRepository, RequestLifecycle, ForgetSets],
})
export class RequestsStoreModule {}
