import type { RequestStatus } from './request-status';

export interface DeletionRequest {
  id: string;
  /** Owner of the token that filed it. */
  requester: string;
  idempotencyKey: string;
  /** Keyed digest of the submitted payload, to tell a retry from a different request under the same key. */
  payloadDigest: string;
  lineage: string;
  datasetSubjectId: string | null;
  /** Name of the dataset subject (dataset metadata, not submitted personal data); null for inline profiles. */
  datasetSubjectName: string | null;
  legalBasis: string;
  status: RequestStatus;
  statusReason: string | null;
  receivedAt: Date;
  dueAt: Date;
  updatedAt: Date;
  modelVersionId: string | null;
}

/** GDPR Art. 12(3): without undue delay and in any event within one month. */
export function dueDate(receivedAt: Date, dueDays: number): Date {
  return new Date(receivedAt.getTime() + dueDays * 24 * 60 * 60 * 1000);
}
