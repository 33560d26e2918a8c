// The activities the lineage workflow calls, as types only: workflows/ imports this file with
// `import type`, the worker registers implementations of these shapes.
import type { AuditInput, AuditResult } from '../audits/domain/audit-activity';
import type { ExportOnnxInput, ExportOnnxOutput, FileRef, ForgottenBy, HyperParameters, UnlearnInput, UnlearnMethod, UnlearnOutput } from '../common/gpu-contracts';

export { AUDIT_TASK_QUEUE, CONTROL_TASK_QUEUE } from '../../workflows/task-queues';

export type VersionStatus = 'CANDIDATE' | 'PROMOTED' | 'REJECTED' | 'ROLLED_BACK' | 'SUPERSEDED';

/** What the workflow keeps of its lineage's versions, to validate rollbacks without a database call. */
export interface LineageSnapshot {
  championVersion: number | null;
  versions: Array<{ number: number; status: VersionStatus }>;
  /** Requests arriving within this many milliseconds of the first queued one are unlearned together. */
  batchingWindowMs: number;
}

/**
 * Audit activity (queue `audit`, implemented in src/audits). The workflow acts on the decision,
 * reasons and escalation; the whole result is handed to recordAudit as is.
 */
export type AuditActivityInput = AuditInput;
export type AuditActivityOutput = Pick<AuditResult, 'decision' | 'reasons' | 'escalation'> & Partial<AuditResult>;
export interface AuditActivities {
  audit(input: AuditActivityInput): Promise<AuditActivityOutput>;
}

export interface BeginRequestInput {
  lineage: string;
  requestIds: string[];
}

/** Everything one step needs, resolved by the control plane when the step begins. */
export interface StepPlan {
  /** Requests actually begun (UNLEARNING, at least one); requests canceled meanwhile are left out. */
  requestIds: string[];
  /** Version the candidate continues from (sequential) or null (cumulative / from the base). */
  parentVersion: number | null;
  /** Full `unlearn` input for the first attempt (method and hyper-parameters from the lineage). */
  unlearn: UnlearnInput;
  export: ExportOnnxInput;
  /** Audit input without the per-candidate fields the workflow fills in. */
  audit: Omit<AuditActivityInput, 'versionNumber' | 'exportDir' | 'adapter' | 'attempt' | 'maxAttempts'>;
  maxAttempts: number;
  reviewTimeoutMs: number;
  /** A GPU activity silent for this long is considered lost (worker killed) and retried. */
  gpuHeartbeatTimeoutMs: number;
  /** The decrypted forget-set file written for this step; deleted when the step ends. */
  forgetSetFile: string;
  /** Re-forget passes after each candidate's audit (the lineage's reforgetPasses; 0 on cumulative lineages). Absent in plans from before re-forgetting. */
  reforgetPasses?: number;
}

export interface PlanReforgetInput {
  lineage: string;
  requestIds: string[];
  /** The candidate the pass would continue from; its recorded audit of `attempt` picks the people. */
  version: number;
  attempt: number;
  /** Take the people above this accuracy instead of the lineage's reforgetAboveAccuracy (the goal passes take those above the goal). */
  aboveAccuracy?: number;
}

/** One re-forget pass: the unlearn fields that differ from the step's own operation. */
export interface ReforgetPlan {
  /** Dataset subjects the pass trains on: those forgotten so far that the candidate's audit finds above the limit. */
  subjectIds: string[];
  parentAdapter: FileRef;
  forgetSet: FileRef;
  excludeFromRetain: string[];
  forgottenBy: ForgottenBy[];
  /** The pass's own decrypted forget-set file; the workflow discards it after the pass's training. */
  forgetSetFile: string;
}

export interface RecordCandidateInput {
  lineage: string;
  requestIds: string[];
  parentVersion: number | null;
  attempt: number;
  method: UnlearnMethod;
  hyperParameters: HyperParameters;
  unlearn: UnlearnOutput;
  /** Dataset subjects beyond the requests' own that this version re-forgot (its re-forget passes so far, this step). */
  reforgottenSubjectIds?: string[];
}

export interface RecordAuditInput {
  lineage: string;
  version: number;
  requestIds: string[];
  attempt: number;
  audit: AuditActivityOutput;
}

export interface PromoteInput {
  lineage: string;
  version: number;
  requestIds: string[];
  actor: string;
  reason: string;
}

/**
 * Rejects a candidate; the requests go to `requestStatus`: back to UNLEARNING for another attempt when null,
 * or nowhere when 'UNCHANGED' (a re-forget pass or the candidate it continued, while the other stays in play).
 */
export interface RejectCandidateInput {
  lineage: string;
  version: number;
  requestIds: string[];
  reason: string;
  actor: string;
  requestStatus: 'REJECTED' | 'FAILED' | 'UNCHANGED' | null;
}

/** A step whose people version 0 showed no knowledge of: completed without a new version, its version-0 audit the evidence. */
export interface CompleteWithoutUnlearningInput {
  lineage: string;
  requestIds: string[];
  audit: AuditActivityOutput;
}

export interface MarkNeedsReviewInput {
  lineage: string;
  version: number;
  requestIds: string[];
  reasons: string[];
}

export interface FailRequestsInput {
  lineage: string;
  requestIds: string[];
  reason: string;
}

export interface RollbackLineageInput {
  lineage: string;
  toVersion: number;
  reason: string;
  actor: string;
}

export interface RollbackLineageResult {
  snapshot: LineageSnapshot;
  /** Requests whose unlearning the rollback undid, now REOPENED, in their original order. */
  reopenedRequestIds: string[];
}

export interface ControlActivities {
  describeLineage(lineage: string): Promise<LineageSnapshot>;
  /** Moves the requests to UNLEARNING and plans the step; null when none of them can begin (canceled meanwhile). */
  beginRequest(input: BeginRequestInput): Promise<StepPlan | null>;
  recordCandidate(input: RecordCandidateInput): Promise<{ version: number; snapshot: LineageSnapshot }>;
  recordAudit(input: RecordAuditInput): Promise<void>;
  markNeedsReview(input: MarkNeedsReviewInput): Promise<void>;
  promoteCandidate(input: PromoteInput): Promise<LineageSnapshot>;
  rejectCandidate(input: RejectCandidateInput): Promise<LineageSnapshot>;
  failRequests(input: FailRequestsInput): Promise<void>;
  completeWithoutUnlearning(input: CompleteWithoutUnlearningInput): Promise<LineageSnapshot>;
  discardForgetSetFile(path: string): Promise<void>;
  /** The next re-forget pass after a candidate's audit, with the requests moved back to UNLEARNING; null when the audit finds nobody forgotten above the limit. */
  planReforget(input: PlanReforgetInput): Promise<ReforgetPlan | null>;
  rollbackLineage(input: RollbackLineageInput): Promise<RollbackLineageResult>;
}

export type GpuActivities = {
  unlearn(input: UnlearnInput): Promise<UnlearnOutput>;
  export_onnx(input: ExportOnnxInput): Promise<ExportOnnxOutput>;
};
