import { Args, ID, Query, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal } from '../../auth/api/auth.decorators';
import { Principal } from '../../auth/domain/principal';
import { ReportService } from '../application/report.service';
import { toAuditReportModel } from './audit-report.mapper';
import { AuditReportModel } from './audit-report.model';

@Resolver()
export class AuditReportResolver {
  constructor(private readonly reports: ReportService) {}

  @Query(() => AuditReportModel, {
    nullable: true,
    description: 'The audit of a deletion request (null until its candidate has been audited). REQUESTERs see only their own.',
  })
  async auditReport(@Args('requestId', { type: () => ID }) requestId: string, @CurrentPrincipal() principal: Principal): Promise<AuditReportModel | null> {
    return toAuditReportModel(await this.reports.requestReport(requestId, principal));
  }
}
