// The `audit` activity's input and output (queue `audit`). The orchestration sees the same shape
// as AuditActivityInput/Output in src/orchestration/activity-types.ts (metrics opaque there).
import { Escalation, GateCheck, GateDecision } from './decision';
import { AdapterRef } from './eval-item';
import { GatePolicy } from './gate-policy';
import { AuditMetrics } from './metrics';

export interface InlineProfilesRef {
  /** The step's forget-set file (contracts/forget-set.schema.json); it exists while the step runs. */
  forgetSetFile: string;
  /** The requests whose inline profiles to probe. */
  requestIds: string[];
}

export interface AuditInput {
  lineage: string;
  /** The candidate's version number; 0 audits the base model itself. */
  versionNumber: number;
  /** Directory of the ONNX export (manifest.json + graphs). */
  exportDir: string;
  /** The llava-hf model directory (tokenizer, processor configs). */
  modelDir: string;
  /** Dataset directory with the canonical lethe/ view. */
  datasetDir: string;
  /** The candidate's adapter; its sha256 is verified before use. null = version 0. */
  adapter: AdapterRef | null;
  /** Dataset subjects of this request; may be empty when inlineProfiles names the request's people. */
  forgetSubjectIds: string[];
  /**
   * This request's people described inline (not dataset people): the audit probes them with questions
   * built from their facts and images (profile-probes.ts), read from the step's decrypted forget-set
   * file, and counts them as forgotten subjects `profile:<requestId>`. Absent or null: none.
   */
  inlineProfiles?: InlineProfilesRef | null;
  /** Every subject forgotten earlier in this lineage (this request's may be included). */
  cumulativeForgetSubjectIds: string[];
  /** The people whose knowledge must be kept; absent or null: everyone never forgotten. */
  retainSubjectIds?: string[] | null;
  /** Version-0 metrics from an earlier audit of this lineage (any scope), or null to compute them. */
  baseline: AuditMetrics | null;
  /** The parent version's metrics (any scope), or null for no deltas. */
  parentMetrics: AuditMetrics | null;
  /** The lineage's gate policy document; validated here. */
  gatePolicy: unknown;
  /** 1-based attempt number for this request (the gate does not read it: the workflow owns the retry budget). */
  attempt: number;
}

export interface AuditFailureInfo {
  reason: string;
  message: string;
}

export interface AuditResult {
  lineage: string;
  versionNumber: number;
  adapterSha256: string | null;
  /** null when the audit failed before producing numbers (then decision is REVIEW). */
  metrics: AuditMetrics | null;
  /** Version-0 metrics cut to this audit's scope; store them as the lineage's baseline. */
  baseline: AuditMetrics | null;
  decision: GateDecision;
  reasons: string[];
  checks: GateCheck[];
  /** Present exactly when the decision is FAIL: what another attempt should change. */
  escalation?: Escalation;
  /**
   * Version 0 showed no more knowledge of this request's people than of never-seen people (forgetting-rules.ts
   * noKnowledgeFound); false without the numbers. Absent in results recorded before it was reported.
   */
  noKnowledgeFound?: boolean;
  /** The validated policy the decision applied; null when the document was invalid. */
  gatePolicy: GatePolicy | null;
  auditError: AuditFailureInfo | null;
  startedAt: string;
  finishedAt: string;
}
