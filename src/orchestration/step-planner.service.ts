// Step planning: which requests a step begins, and everything its operations need (the unlearn,
// export and audit inputs, the forget-set file), resolved from the control plane's services.
import path from 'node:path';
import type { InlineProfilesRef } from '../audits/domain/audit-activity';
import { onnxExportsDir } from '../config/config';
import type { AuditMetrics } from '../audits/domain/metrics';
import type { LineagesService } from '../lineages/lineages.service';
import type { ModelVersionsService } from '../lineages/model-versions.service';
import type { DeletionRequest } from '../requests/domain/deletion-request';
import { IN_STEP, WAITING } from '../requests/domain/request-status';
import type { ForgetSets } from '../requests/forget-sets.service';
import type { RequestLifecycle } from '../requests/request-lifecycle.service';
import type { LineageSnapshot, PlanReforgetInput, ReforgetPlan, StepPlan } from './activity-types';
import { heldAtVersions, seedOf, storedAudit, subjectIdsOf } from './domain/step-plan';
import { ForgetSetFiles, type ForgetSetOwner } from './forget-set-files.service';
import { ActivityRefusal } from './domain/orchestration-error';
import { accuracyOfTally, holdsOf, peopleAbove } from './domain/passes';

export const SYSTEM_ACTOR = 'system:lineage-workflow';

/** The requests of a step that describe their person inline, with the file the audit reads them from; null for none. */
function inlineProfilesOf(requests: readonly DeletionRequest[], forgetSetFile: string): InlineProfilesRef | null {
  const requestIds = requests.filter((r) => r.datasetSubjectId === null).map((r) => r.id);
  return requestIds.length > 0 ? { forgetSetFile, requestIds } : null;
}

export interface StepSettings {
  /** Adapters and ONNX exports go under this directory. */
  artifactsDir: string;
  /** Attempts per step when the audit asks for a retry. */
  maxAttempts: number;
  /** How long a NEEDS_REVIEW candidate waits for an operator before it is rejected. */
  reviewTimeoutMs: number;
  /** A GPU activity silent for this long is retried (the Python worker heartbeats every step). */
  gpuHeartbeatTimeoutMs: number;
}

export class StepPlanner {
  constructor(
    private readonly lineages: LineagesService,
    private readonly versions: ModelVersionsService,
    private readonly lifecycle: RequestLifecycle,
    private readonly forgetSets: ForgetSets,
    private readonly files: ForgetSetFiles,
    private readonly settings: StepSettings,
    private readonly log: (message: string) => void,
  ) {}

  /** What the workflow keeps of its lineage. */
  async snapshot(lineage: string): Promise<LineageSnapshot> {
    const found = await this.lineages.get(lineage);
    const versions = await this.versions.listVersions(lineage);
    return {
      championVersion: found.championVersion,
      versions: versions.map((v) => ({ number: v.number, status: v.status })),
      batchingWindowMs: found.batchingWindowSeconds * 1000,
    };
  }

  /** Begins the waiting ones of `requestIds` (UNLEARNING) and plans their step; null when none can begin. */
  async begin(name: string, requestIds: string[]): Promise<StepPlan | null> {
    // Before any request moves: the step's plaintext is written only once a GPU worker can take it.
    await this.files.requireGpuWorker();
    const lineage = await this.lineages.get(name);
    const options = { actor: SYSTEM_ACTOR, reason: `unlearning on lineage ${name}` };
    await this.lifecycle.moveWhere(requestIds, WAITING, 'UNLEARNING', options);
    // Retry-safe: a request already UNLEARNING was begun by the lost first attempt.
    const begun: string[] = [];
    for (const id of requestIds) {
      const current = await this.lifecycle.find(id);
      if (current?.status === 'UNLEARNING') begun.push(id);
      else this.log(`request ${id} is ${current?.status ?? 'missing'}; not begun`);
    }
    if (begun.length === 0) return null;

    const earlier = (await this.forgottenBefore(name)).filter((r) => !begun.includes(r.id));
    const cumulative = lineage.strategy === 'CUMULATIVE';
    // Cumulative: a fresh adapter from the base on the union of every forget set so far.
    const toForget = await this.lifecycle.findMany(cumulative ? [...earlier.map((r) => r.id), ...begun] : begun);
    const begunRequests = toForget.filter((r) => begun.includes(r.id));
    const parent = cumulative || lineage.championVersion === null ? null : await this.versions.findVersion(name, lineage.championVersion);
    const owner = { lineage: name, requestIds: begun };
    const forgetSet = await this.files.write(ForgetSetFiles.stepDir(owner), owner, toForget, await this.forgetSets.loadMany(toForget.map((r) => r.id)));
    return {
      requestIds: begun,
      parentVersion: cumulative ? null : lineage.championVersion,
      unlearn: {
        baseModel: lineage.baseModel,
        dataset: { path: lineage.datasetPath },
        parentAdapter: parent?.adapterUri && parent.adapterSha256 ? { path: parent.adapterUri, sha256: parent.adapterSha256 } : null,
        forgetSet,
        excludeFromRetain: subjectIdsOf(earlier),
        forgottenBy: cumulative ? [] : holdsOf(heldAtVersions(await this.versions.listVersions(name), earlier), []),
        method: lineage.method,
        hyperParameters: lineage.hyperParameters,
        lora: lineage.lora,
        seed: seedOf(name),
        outputRoot: path.join(this.settings.artifactsDir, 'adapters', name),
      },
      export: { baseModel: lineage.baseModel, lora: lineage.lora, outputRoot: onnxExportsDir(this.settings.artifactsDir) },
      audit: {
        lineage: name,
        modelDir: lineage.baseModel.path,
        datasetDir: lineage.datasetPath,
        forgetSubjectIds: subjectIdsOf(begunRequests),
        // People described inline have no eval questions: the audit probes them from the same decrypted file.
        inlineProfiles: inlineProfilesOf(begunRequests, forgetSet.path),
        cumulativeForgetSubjectIds: subjectIdsOf([...earlier, ...begunRequests]),
        baseline: await this.storedBaseline(name),
        parentMetrics: lineage.championVersion === null ? null : await this.storedMetrics(name, lineage.championVersion),
        gatePolicy: lineage.gatePolicy,
      },
      maxAttempts: this.settings.maxAttempts,
      reviewTimeoutMs: this.settings.reviewTimeoutMs,
      gpuHeartbeatTimeoutMs: this.settings.gpuHeartbeatTimeoutMs,
      forgetSetFile: forgetSet.path,
      reforgetPasses: cumulative ? 0 : lineage.reforgetPasses,
    };
  }

  /**
   * The next re-forget pass after a candidate's audit: the forgotten dataset people it finds above the
   * limit, with the step's requests moved back to UNLEARNING; null when it finds nobody.
   */
  async reforget({ lineage: name, requestIds, version: number, attempt, aboveAccuracy }: PlanReforgetInput): Promise<ReforgetPlan | null> {
    const candidate = await this.versions.findVersion(name, number);
    if (!candidate?.adapterUri || !candidate.adapterSha256) {
      throw new ActivityRefusal('NOT_FOUND', `version: lineage ${name} has no version ${number} with an adapter to continue`);
    }
    const audit = (await this.auditRowsOf(name, number)).find((row) => row.attempt === attempt);
    const perSubject = audit ? storedAudit(audit.metrics).perSubject : null;
    // An audit without numbers picks nobody; the gate decides what happens to it.
    if (!perSubject) return null;
    const earlier = (await this.forgottenBefore(name)).filter((r) => !requestIds.includes(r.id));
    const own = await this.lifecycle.findMany(requestIds);
    // Only dataset subjects can be re-forgotten: the audit checks only them, and an inline profile of an earlier request is purged.
    const requestOf = new Map<string, DeletionRequest>();
    for (const r of [...earlier, ...own]) if (r.datasetSubjectId !== null) requestOf.set(r.datasetSubjectId, r);
    const forgotten = [...requestOf.keys()];
    const limit = aboveAccuracy ?? (await this.lineages.get(name)).reforgetAboveAccuracy;
    const trainOn = peopleAbove(Object.fromEntries(forgotten.map((id) => [id, accuracyOfTally(perSubject[id])])), limit);
    if (trainOn.length === 0) return null;
    const heldAt = heldAtVersions(await this.versions.listVersions(name), earlier);
    // This step's people, and whom its earlier passes re-forgot, were last trained on by the candidate or a version it continues.
    const parentAdapter = { path: candidate.adapterUri, sha256: candidate.adapterSha256 };
    for (const id of [...subjectIdsOf(own), ...candidate.reforgottenSubjectIds]) heldAt.set(id, parentAdapter);
    const requests = trainOn.map((id) => requestOf.get(id)!);
    const forgetSet = await this.files.write(ForgetSetFiles.passDir(name, number), { lineage: name, requestIds }, requests, await this.forgetSets.loadMany(requests.map((r) => r.id)));
    const why = `re-forgetting ${trainOn.length} forgotten people whom the audit of version ${number} finds above ${limit}: ${trainOn.join(', ')}`;
    // Retry-safe: a request already UNLEARNING was moved by the lost first attempt.
    await this.lifecycle.moveWhere(requestIds, ['AUDITING'], 'UNLEARNING', { actor: SYSTEM_ACTOR, reason: why, data: { version: number, attempt } });
    this.log(`lineage ${name} version ${number} attempt ${attempt}: ${why}`);
    return {
      subjectIds: trainOn,
      parentAdapter,
      forgetSet,
      excludeFromRetain: forgotten.filter((id) => !trainOn.includes(id)),
      forgottenBy: holdsOf(heldAt, trainOn),
      forgetSetFile: forgetSet.path,
    };
  }

  /** Whether the step that owns a forget-set directory still runs: one of its requests is in it. */
  async stillRuns(owner: ForgetSetOwner): Promise<boolean> {
    const requests = await Promise.all(owner.requestIds.map((id) => this.lifecycle.find(id)));
    return requests.some((r) => r !== null && IN_STEP.includes(r.status));
  }

  /** Subjects this lineage already forgot (COMPLETED requests), oldest first. */
  private forgottenBefore(lineage: string): Promise<DeletionRequest[]> {
    return this.lifecycle.inLineage(lineage, ['COMPLETED']);
  }

  private async auditRowsOf(lineage: string, number: number) {
    const version = await this.versions.findVersion(lineage, number);
    return version ? this.versions.auditResultsOfVersion(version.id) : [];
  }

  /** The metrics of a version's latest stored audit. */
  private async storedMetrics(lineage: string, number: number): Promise<AuditMetrics | null> {
    const latest = (await this.auditRowsOf(lineage, number)).at(-1);
    return latest ? storedAudit(latest.metrics).metrics : null;
  }

  /** Version-0 metrics from the latest audit of this lineage that carried them (the audit returns them as `baseline`). */
  private async storedBaseline(lineage: string): Promise<AuditMetrics | null> {
    for (const version of [...(await this.versions.listVersions(lineage))].reverse()) {
      for (const row of (await this.versions.auditResultsOfVersion(version.id)).reverse()) {
        const { baseline } = storedAudit(row.metrics);
        if (baseline) return baseline;
      }
    }
    return null;
  }
}
