// Compliance reports per request and per version. Owns who may read which report: REQUESTERs
// only their own requests' reports (anything else is NOT_FOUND, so existence does not leak);
// version reports are for AUDITORs and OPERATORs (enforced by the routes' @Roles).
import { Inject, Injectable } from '@nestjs/common';
import { canSeeEverything, Principal } from '../../auth/domain/principal';
import { SUBJECT_REDACTION, SubjectRedactionPort } from '../../common/subject-redaction';
import { AuditError } from '../domain/audit-error';
import { buildReport, ComplianceReport } from '../domain/report';
import { ReportFactsRepository } from '../persistence/report-facts.repository';
import { reportTexts, reportViewFor } from './report-view';
import { UUID } from '../../common/ids';

export const reportLinks = {
  request: (id: string) => ({ json: `/reports/requests/${id}.json`, html: `/reports/requests/${id}.html` }),
  version: (lineage: string, n: number) => ({
    json: `/reports/versions/${encodeURIComponent(lineage)}/${n}.json`,
    html: `/reports/versions/${encodeURIComponent(lineage)}/${n}.html`,
  }),
};


@Injectable()
export class ReportService {
  constructor(
    private readonly facts: ReportFactsRepository,
    @Inject(SUBJECT_REDACTION) private readonly redaction: SubjectRedactionPort,
  ) {}

  async requestReport(requestId: string, principal: Principal): Promise<ComplianceReport> {
    const notFound = new AuditError('REPORT_NOT_FOUND', `no deletion request ${requestId}`, 'requestId');
    if (!UUID.test(requestId)) throw notFound;
    const record = await this.facts.findRequest(requestId);
    if (!record || (!canSeeEverything(principal) && record.facts.requester !== principal.owner)) throw notFound;
    const [versions, audits] = await Promise.all([this.facts.listVersions(record.lineage), this.facts.listAudits(record.lineage)]);
    const report = buildReport({
      lineage: record.lineage,
      request: record.facts,
      versionNumber: record.carriedBy,
      versions,
      audits,
      links: reportLinks.request(requestId),
      now: new Date(),
    });
    if (canSeeEverything(principal)) return reportViewFor(report, principal);
    const own = [record.datasetSubjectId];
    const redact = await this.redaction.redactorFor(record.lineage, own, reportTexts(report));
    return reportViewFor(report, principal, { requestId, datasetSubjectId: record.datasetSubjectId, redact });
  }

  /** AUDITORs and OPERATORs only (the routes' @Roles). */
  async versionReport(lineage: string, versionNumber: number, principal: Principal): Promise<ComplianceReport> {
    const versions = await this.facts.listVersions(lineage);
    if (!versions.some((v) => v.number === versionNumber)) {
      throw new AuditError('REPORT_NOT_FOUND', `lineage "${lineage}" has no version ${versionNumber}`, 'versionNumber');
    }
    const report = buildReport({
      lineage,
      request: null,
      versionNumber,
      versions,
      audits: await this.facts.listAudits(lineage),
      links: reportLinks.version(lineage, versionNumber),
      now: new Date(),
    });
    return reportViewFor(report, principal);
  }
}
