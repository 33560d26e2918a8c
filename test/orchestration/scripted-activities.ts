// Replaced activities for the workflow tests (the orchestration logic is what they test): an in-memory bookkeeping of requests and versions that behaves like the
// control plane's rules, plus scripted `unlearn` / `export_onnx` / `audit` results per lineage.
// The workflow under test runs unchanged on the real Temporal dev server.
import { ApplicationFailure } from '@temporalio/common';
import type {
  AuditActivities,
  AuditActivityInput,
  AuditActivityOutput,
  ControlActivities,
  GpuActivities,
  LineageSnapshot,
  StepPlan,
  VersionStatus,
} from '../../src/orchestration/activity-types';
import { parseGatePolicy } from '../../src/audits/domain/gate-policy';
import type { ExportOnnxInput, UnlearnInput, UnlearnOutput } from '../../src/common/gpu-contracts';

export interface ScriptedVersion {
  number: number;
  parent: number | null;
  status: VersionStatus;
  requestIds: string[];
  reforgottenSubjectIds: string[];
  method: string;
  learningRate: number;
}

export interface ScriptedLineage {
  strategy: 'sequential' | 'cumulative';
  batchingWindowMs: number;
  maxAttempts: number;
  reviewTimeoutMs: number;
  champion: number;
  versions: ScriptedVersion[];
  /** Audit decisions consumed one per audit; PASS when empty. */
  decisions: AuditActivityOutput[];
  /** When set, `unlearn` waits for it (to observe the queue while a step runs). */
  unlearnGate: Promise<void> | null;
  /** When set, the next `unlearn` fails with it (non-retryable). */
  unlearnFailure: { type: string; message: string } | null;
  /** The plan's reforgetPasses. */
  reforgetPasses: number;
  /** Whom each planReforget call picks, consumed one per call; nobody (null) when empty. */
  reforgetPicks: string[][];
  /** The lineage's gate policy document (defaults when empty). */
  gatePolicy: Record<string, unknown>;
}

export interface ScriptedRequest {
  lineage: string;
  status: string;
  reason: string | null;
  modelVersion: number | null;
}

export interface ActivityCall {
  name: string;
  lineage: string;
  input: unknown;
}

export class ScriptedPlane {
  readonly lineages = new Map<string, ScriptedLineage>();
  readonly requests = new Map<string, ScriptedRequest>();
  readonly calls: ActivityCall[] = [];
  readonly discardedFiles: string[] = [];

  addLineage(name: string, settings: Partial<Omit<ScriptedLineage, 'versions' | 'champion'>> = {}): ScriptedLineage {
    const lineage: ScriptedLineage = {
      strategy: 'sequential',
      batchingWindowMs: 0,
      maxAttempts: 3,
      reviewTimeoutMs: 60_000,
      decisions: [],
      unlearnGate: null,
      unlearnFailure: null,
      reforgetPasses: 0,
      reforgetPicks: [],
      gatePolicy: {},
      ...settings,
      champion: 0,
      versions: [{ number: 0, parent: null, status: 'PROMOTED', requestIds: [], reforgottenSubjectIds: [], method: 'base', learningRate: 0 }],
    };
    this.lineages.set(name, lineage);
    return lineage;
  }

  /** What the API does before enqueue: the request exists, QUEUED. */
  addRequest(lineage: string, requestId: string): void {
    this.requests.set(requestId, { lineage, status: 'QUEUED', reason: null, modelVersion: null });
  }

  /** Holds `unlearn` on a lineage until the returned function is called. */
  holdUnlearn(lineage: string): () => void {
    let release!: () => void;
    this.lineage(lineage).unlearnGate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.lineage(lineage).unlearnGate = null;
      release();
    };
  }

  callsOf(name: string, lineage: string): ActivityCall[] {
    return this.calls.filter((c) => c.name === name && c.lineage === lineage);
  }

  status(requestId: string): string | undefined {
    return this.requests.get(requestId)?.status;
  }

  private lineage(name: string): ScriptedLineage {
    const lineage = this.lineages.get(name);
    if (!lineage) throw ApplicationFailure.nonRetryable(`lineage ${name} does not exist`, 'NOT_FOUND');
    return lineage;
  }

  private snapshot(name: string): LineageSnapshot {
    const l = this.lineage(name);
    return { championVersion: l.champion, versions: l.versions.map((v) => ({ number: v.number, status: v.status })), batchingWindowMs: l.batchingWindowMs };
  }

  private record(name: string, lineage: string, input: unknown): void {
    this.calls.push({ name, lineage, input });
  }

  private setStatus(requestIds: string[], status: string, reason: string | null, modelVersion?: number): void {
    for (const id of requestIds) {
      const r = this.requests.get(id)!;
      r.status = status;
      r.reason = reason;
      if (modelVersion !== undefined) r.modelVersion = modelVersion;
    }
  }

  controlActivities(): ControlActivities {
    return {
      describeLineage: async (lineage) => {
        this.record('describeLineage', lineage, lineage);
        return this.snapshot(lineage);
      },
      beginRequest: async (input) => {
        this.record('beginRequest', input.lineage, input);
        const l = this.lineage(input.lineage);
        const requestIds = input.requestIds.filter((id) => ['QUEUED', 'REOPENED'].includes(this.status(id) ?? ''));
        if (requestIds.length === 0) return null;
        this.setStatus(requestIds, 'UNLEARNING', null);
        const parentVersion = l.strategy === 'sequential' ? l.champion : null;
        const forgetSetFile = `/tmp/forget/${input.lineage}/${requestIds.join('+')}.json`;
        const plan: StepPlan = {
          requestIds,
          parentVersion,
          unlearn: {
            baseModel: { path: '/models/tiny', id: 'tiny' },
            dataset: { path: '/datasets/tiny' },
            parentAdapter: parentVersion ? { path: `/adapters/${input.lineage}/v${parentVersion}.safetensors`, sha256: sha(parentVersion) } : null,
            forgetSet: { path: forgetSetFile, sha256: sha(requestIds.length) },
            excludeFromRetain: [],
            method: 'ga',
            hyperParameters: { learningRate: 0.001, epochs: 1, batchSize: 2 },
            lora: { rank: 4, alpha: 8, dropout: 0, targets: 'llm' },
            seed: 7,
            outputRoot: '/artifacts',
          },
          export: { baseModel: { path: '/models/tiny', id: 'tiny' }, lora: { rank: 4, alpha: 8, dropout: 0, targets: 'llm' }, outputRoot: '/onnx' },
          audit: {
            lineage: input.lineage, modelDir: '/models/tiny', datasetDir: '/datasets/tiny',
            forgetSubjectIds: requestIds.filter((id) => !isInline(id)), cumulativeForgetSubjectIds: requestIds.filter((id) => !isInline(id)),
            baseline: null, parentMetrics: null, gatePolicy: l.gatePolicy,
            ...(requestIds.some(isInline) ? { inlineProfiles: { forgetSetFile, requestIds: requestIds.filter(isInline) } } : {}),
          },
          maxAttempts: l.maxAttempts,
          reviewTimeoutMs: l.reviewTimeoutMs,
          gpuHeartbeatTimeoutMs: 30_000,
          forgetSetFile,
          ...(l.reforgetPasses > 0 ? { reforgetPasses: l.reforgetPasses } : {}),
        };
        return plan;
      },
      recordCandidate: async (input) => {
        this.record('recordCandidate', input.lineage, input);
        const l = this.lineage(input.lineage);
        const number = l.versions.length;
        l.versions.push({
          number, parent: input.parentVersion, status: 'CANDIDATE', requestIds: input.requestIds,
          reforgottenSubjectIds: input.reforgottenSubjectIds ?? [], method: input.method, learningRate: input.hyperParameters.learningRate,
        });
        this.setStatus(input.requestIds, 'AUDITING', null);
        return { version: number, snapshot: this.snapshot(input.lineage) };
      },
      recordAudit: async (input) => {
        this.record('recordAudit', input.lineage, input);
      },
      markNeedsReview: async (input) => {
        this.record('markNeedsReview', input.lineage, input);
        this.setStatus(input.requestIds, 'NEEDS_REVIEW', input.reasons.join('; '));
      },
      promoteCandidate: async (input) => {
        this.record('promoteCandidate', input.lineage, input);
        const l = this.lineage(input.lineage);
        l.versions[l.champion].status = 'SUPERSEDED';
        l.versions[input.version].status = 'PROMOTED';
        l.champion = input.version;
        this.setStatus(input.requestIds, 'COMPLETED', input.reason, input.version);
        return this.snapshot(input.lineage);
      },
      rejectCandidate: async (input) => {
        this.record('rejectCandidate', input.lineage, input);
        const l = this.lineage(input.lineage);
        l.versions[input.version].status = 'REJECTED';
        if (input.requestStatus !== 'UNCHANGED') this.setStatus(input.requestIds, input.requestStatus ?? 'UNLEARNING', input.reason);
        return this.snapshot(input.lineage);
      },
      completeWithoutUnlearning: async (input) => {
        this.record('completeWithoutUnlearning', input.lineage, input);
        this.setStatus(input.requestIds, 'COMPLETED', 'no unlearning needed', 0);
        return this.snapshot(input.lineage);
      },
      failRequests: async (input) => {
        this.record('failRequests', input.lineage, input);
        this.setStatus(input.requestIds, 'FAILED', input.reason);
      },
      discardForgetSetFile: async (path) => {
        this.discardedFiles.push(path);
      },
      planReforget: async (input) => {
        this.record('planReforget', input.lineage, input);
        const subjectIds = this.lineage(input.lineage).reforgetPicks.shift();
        if (!subjectIds) return null;
        this.setStatus(input.requestIds, 'UNLEARNING', `re-forgetting ${subjectIds.join(', ')}`);
        const forgetSetFile = `/tmp/forget/${input.lineage}/reforget-v${input.version}.json`;
        return {
          subjectIds,
          parentAdapter: { path: `/adapters/${input.lineage}/v${input.version}.safetensors`, sha256: sha(input.version) },
          forgetSet: { path: forgetSetFile, sha256: sha(subjectIds.length) },
          excludeFromRetain: [],
          forgottenBy: [],
          forgetSetFile,
        };
      },
      rollbackLineage: async (input) => {
        this.record('rollbackLineage', input.lineage, input);
        const l = this.lineage(input.lineage);
        const reopened: string[] = [];
        for (const v of l.versions) {
          if (v.number > input.toVersion && (v.status === 'PROMOTED' || v.status === 'SUPERSEDED')) {
            v.status = 'ROLLED_BACK';
            for (const id of v.requestIds) if (this.status(id) === 'COMPLETED') reopened.push(id);
          }
        }
        l.versions[input.toVersion].status = 'PROMOTED';
        l.champion = input.toVersion;
        this.setStatus(reopened, 'REOPENED', input.reason);
        return { snapshot: this.snapshot(input.lineage), reopenedRequestIds: reopened };
      },
    };
  }

  gpuActivities(): GpuActivities {
    return {
      unlearn: async (input: UnlearnInput): Promise<UnlearnOutput> => {
        const lineage = lineageOfForgetFile(input.forgetSet.path);
        this.record('unlearn', lineage, input);
        const l = this.lineage(lineage);
        if (l.unlearnGate) await l.unlearnGate;
        if (l.unlearnFailure) {
          const failure = l.unlearnFailure;
          l.unlearnFailure = null;
          throw ApplicationFailure.nonRetryable(failure.message, failure.type);
        }
        return {
          adapter: { path: `/adapters/${lineage}/next.safetensors`, sha256: sha(this.calls.length) },
          manifestPath: '/adapters/manifest.json', lossCurve: [1, 0.5], steps: 2, wallSeconds: 0.1, tokensPerSecond: 100, reused: false,
        };
      },
      export_onnx: async (input: ExportOnnxInput) => {
        this.record('export_onnx', 'any', input);
        return { dir: `/onnx/${input.baseModel.id}`, manifestPath: `/onnx/${input.baseModel.id}/manifest.json`, reused: false };
      },
    };
  }

  auditActivities(): AuditActivities {
    return {
      audit: async (input: AuditActivityInput) => {
        this.record('audit', input.lineage, input);
        const next = this.lineage(input.lineage).decisions.shift();
        // As the real audit does, the result names the validated policy it applied.
        return { gatePolicy: parseGatePolicy(input.gatePolicy), ...(next ?? { metrics: null, decision: 'PASS', reasons: [] }) };
      },
    };
  }
}

/** Scripted requests whose id starts with "inline-" describe their person inline (subject.profile), not by dataset id. */
function isInline(requestId: string): boolean {
  return requestId.startsWith('inline-');
}

function sha(n: number): string {
  return n.toString(16).padStart(64, '0');
}

/** The scripted forget-set path carries the lineage name (see beginRequest above). */
function lineageOfForgetFile(path: string): string {
  const match = /^\/tmp\/forget\/([^/]+)\//.exec(path);
  if (!match) throw new Error(`unexpected forget set path ${path}`);
  return match[1];
}
