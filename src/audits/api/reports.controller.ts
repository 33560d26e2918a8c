// Compliance reports over HTTP, with the same bearer-token auth as GraphQL (the global AuthGuard):
//   GET /reports/requests/:id.json | .html          any role; REQUESTERs only their own requests
//   GET /reports/versions/:lineage/:n.json | .html   AUDITOR, OPERATOR
//   GET /reports/signing-key                         public: the Ed25519 key (PEM) JSON reports are signed with
import { Controller, Get, Param, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { CurrentPrincipal, Public, Roles } from '../../auth/api/auth.decorators';
import { Principal } from '../../auth/domain/principal';
import { ReportSigner } from '../application/report-signing';
import { ReportService } from '../application/report.service';
import { AuditError } from '../domain/audit-error';
import { ComplianceReport } from '../domain/report';
import { renderReportHtml } from '../report/render-html';
import { AppErrorHttpFilter } from './app-error-http.filter';

type Format = 'json' | 'html';

/** Splits "name.json" / "name.html"; any other extension is NOT_FOUND like an unknown path. */
function splitFormat(file: string): { name: string; format: Format } {
  const match = /^(.+)\.(json|html)$/.exec(file);
  if (!match) throw new AuditError('REPORT_NOT_FOUND', `no report "${file}" (use .json or .html)`);
  return { name: match[1], format: match[2] as Format };
}


@Controller('reports')
@UseFilters(AppErrorHttpFilter)
export class ReportsController {
  constructor(
    private readonly reports: ReportService,
    private readonly signer: ReportSigner,
  ) {}

  private async send(response: Response, report: ComplianceReport, format: Format): Promise<void> {
    // Reports carry who asked and when: never cached by intermediaries.
    response.setHeader('Cache-Control', 'no-store');
    if (format === 'json') response.json(await this.signer.sign(report));
    else response.type('html').send(renderReportHtml(report));
  }

  @Get('signing-key')
  @Public()
  signingKey(@Res() response: Response): void {
    response.type('application/x-pem-file').send(this.signer.publicKeyPem);
  }

  @Get('requests/:file')
  async requestReport(@Param('file') file: string, @CurrentPrincipal() principal: Principal, @Res() response: Response): Promise<void> {
    const { name, format } = splitFormat(file);
    await this.send(response, await this.reports.requestReport(name, principal), format);
  }

  @Get('versions/:lineage/:file')
  @Roles('AUDITOR', 'OPERATOR')
  async versionReport(@Param('lineage') lineage: string, @Param('file') file: string, @CurrentPrincipal() principal: Principal, @Res() response: Response): Promise<void> {
    const { name, format } = splitFormat(file);
    if (!/^\d+$/.test(name)) throw new AuditError('REPORT_NOT_FOUND', `no version "${name}"`, 'versionNumber');
    await this.send(response, await this.reports.versionReport(lineage, Number(name), principal), format);
  }
}
