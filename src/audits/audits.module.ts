import { Module } from '@nestjs/common';
import { LineagesModule } from '../lineages/lineages.module';
import { AuditReportResolver } from './api/audit-report.resolver';
import { ReportsController } from './api/reports.controller';
import { ReportSigner, reportSigningKeyProvider } from './application/report-signing';
import { ReportService } from './application/report.service';
import { ReportFactsRepository } from './persistence/report-facts.repository';

/**
 * Compliance reports (GraphQL `auditReport`, HTTP /reports/...). Needs the global DataSource
 * (DatabaseModule) and the global AuthGuard (AuthModule). The audit activity itself runs in the
 * `audit` worker: see application/runtime-audit-activities.ts.
 */
@Module({
  imports: [LineagesModule],
  providers: [ReportFactsRepository, ReportService, reportSigningKeyProvider, ReportSigner, AuditReportResolver],
  controllers: [ReportsController],
  exports: [ReportService],
})
export class AuditsModule {}
