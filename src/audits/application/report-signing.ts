// A compliance report is evidence outside Lethe too: its JSON form is signed (Ed25519, key outside
// the database) over its canonical bytes, including the event chain's head when it was issued.
// An auditor verifies a download offline: node scripts/verify-report.cjs report.json key.pem.
import { Inject, Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { DocumentSignature, loadOrCreateSigningKey, publicKeyPem, signDocument } from '../../common/crypto';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { EventLog } from '../../events/event-log.service';
import { ComplianceReport } from '../domain/report';

export const REPORT_SIGNING_KEY = Symbol('REPORT_SIGNING_KEY');

export const reportSigningKeyProvider = {
  provide: REPORT_SIGNING_KEY,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig): KeyObject => loadOrCreateSigningKey(config.reportSigningKeyFile),
};

export type SignedReport = ComplianceReport & {
  /** The event log's last row when the report was issued (verifyEventChain proves it is in the chain). */
  chainHead: { seq: number; hash: string };
  signature: DocumentSignature;
};

@Injectable()
export class ReportSigner {
  readonly publicKeyPem: string;

  constructor(
    @Inject(REPORT_SIGNING_KEY) private readonly key: KeyObject,
    private readonly eventLog: EventLog,
  ) {
    this.publicKeyPem = publicKeyPem(key);
  }

  async sign(report: ComplianceReport): Promise<SignedReport> {
    return signDocument({ ...report, chainHead: await this.eventLog.head() }, this.key);
  }
}
