import { DynamicModule, Module, Type } from '@nestjs/common';
import { AuditReportResolver } from './api/audit-report.resolver';
import { ChainVerificationResolver } from './api/chain-verification.resolver';
import { ReportsController } from './api/reports.controller';
import { ReportSigner, reportSigningKeyProvider } from './application/report-signing';
import { ReportService } from './application/report.service';
import { ReportFactsRepository } from './persistence/report-facts.repository';

/**
 * Compliance reports (GraphQL `auditReport`, HTTP /reports/...). Needs the global DataSource
 * (DatabaseModule) and the global AuthGuard (AuthModule). The audit activity itself runs in the
 * `audit` worker: see application/runtime-audit-activities.ts.
 */
@Module({})
export class AuditsModule {
  /** `subjects`: a module exporting SUBJECT_REDACTION (the lineages feature), chosen by the app so audits import no feature of theirs. */
  static withSubjects(subjects: Type | DynamicModule): DynamicModule {
    return {
      module: AuditsModule,
      imports: [subjects],
      providers: [ReportFactsRepository, ReportService, reportSigningKeyProvider, ReportSigner, AuditReportResolver, ChainVerificationResolver],
      controllers: [ReportsController],
      exports: [ReportService],
    };
  }
}
