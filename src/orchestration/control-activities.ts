// The bookkeeping activities of the lineage workflow (queue `control`): each records one step
// through the control plane's services. Domain refusals (AppError) become non-retryable
// failures; anything else (a database restart) is retried by the workflow's retry policy.
// Every activity is safe to run twice: a retry after a lost completion changes nothing more.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { AppError } from '../common/errors';
import type { ModelLineage, ModelVersion } from '../lineages/domain/lineage';
import type { LineagesService } from '../lineages/lineages.service';
import type { ModelVersionsService } from '../lineages/model-versions.service';
import type { DeletionRequest } from '../requests/domain/deletion-request';
import type { ForgetSet } from '../requests/domain/forget-set';
import type { ForgetSets } from '../requests/forget-sets.service';
import type { DeletionRequestRepository } from '../requests/persistence/deletion-request.repository';
import type { RequestLifecycle } from '../requests/request-lifecycle.service';
import type { ControlActivities, LineageSnapshot, StepPlan } from './activity-types';
import type { SubjectTally } from '../audits/domain/metrics';
import type { FileRef, ForgetSetFile } from './contracts';
import { accuracyOfTally, holdsOf, peopleAbove } from './reforget';
import { purgeAfter, type RetentionOutcome } from './retention';

export const SYSTEM_ACTOR = 'system:lineage-workflow';

export interface ControlActivityDeps {
  lineages: LineagesService;
  versions: ModelVersionsService;
  lifecycle: RequestLifecycle;
  requests: DeletionRequestRepository;
  forgetSets: ForgetSets;
  /** Adapters, ONNX exports and the short-lived forget-set files go under this directory. */
  artifactsDir: string;
  /** Attempts per step when the audit asks for a retry. */
  maxAttempts: number;
  /** How long a NEEDS_REVIEW candidate waits for an operator before it is rejected. */
  reviewTimeoutMs: number;
  /** A GPU activity silent for this long is retried (the Python worker heartbeats every step). */
  gpuHeartbeatTimeoutMs?: number;
  log?: (message: string) => void;
}

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_REVIEW_TIMEOUT_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_GPU_HEARTBEAT_TIMEOUT_MS = 2 * 60 * 1000;

export function createControlActivities(deps: ControlActivityDeps): ControlActivities {
  const forgetSetRoot = path.join(deps.artifactsDir, 'forget-sets');
  const log = deps.log ?? (() => undefined);

  async function snapshot(lineage: string): Promise<LineageSnapshot> {
    const found = await deps.lineages.get(lineage);
    const versions = await deps.versions.listVersions(lineage);
    return {
      championVersion: found.championVersion,
      versions: versions.map((v) => ({ number: v.number, status: v.status })),
      batchingWindowMs: found.batchingWindowSeconds * 1000,
    };
  }

  /** Subjects this lineage already forgot (COMPLETED requests), oldest first. */
  async function forgottenBefore(lineage: string): Promise<DeletionRequest[]> {
    return deps.requests.listByLineageAndStatus(lineage, ['COMPLETED']);
  }

  /** Each earlier person at the latest promoted or superseded version that trained on them (their request's, or one
   *  whose re-forget passes did), so later operations hold them where they were last forgotten. Rolled-back versions
   *  do not count: a rollback reopens their requests and undoes their passes. */
  async function heldAtVersions(lineage: string, earlier: DeletionRequest[]): Promise<Map<string, FileRef>> {
    const forgotten = new Set(subjectIdsOf(earlier));
    const heldAt = new Map<string, FileRef>();
    for (const version of await deps.versions.listVersions(lineage)) {
      if (!version.adapterUri || !version.adapterSha256 || !['PROMOTED', 'SUPERSEDED'].includes(version.status)) continue;
      const own = subjectIdsOf(earlier.filter((r) => version.requestIds.includes(r.id)));
      const reforgotten = version.reforgottenSubjectIds.filter((id) => forgotten.has(id));
      for (const subject of [...own, ...reforgotten]) heldAt.set(subject, { path: version.adapterUri, sha256: version.adapterSha256 });
    }
    return heldAt;
  }

  async function purge(requestIds: string[], reason: string): Promise<void> {
    for (const id of requestIds) await deps.forgetSets.purge(id, SYSTEM_ACTOR, reason);
  }

  /** Applies the retention rule (./retention.ts) to the requests a step just finished. */
  async function purgeFinished(lineage: string, outcome: RetentionOutcome, requestIds: string[]): Promise<void> {
    const { strategy } = await deps.lineages.get(lineage);
    const purgeable = await purgeAfter(outcome, strategy, requestIds, (id) => deps.requests.findById(id));
    await purge(purgeable, `retention: request ${outcome} on a ${strategy} lineage`);
  }

  const activities: ControlActivities = {
    describeLineage: (lineage) => snapshot(lineage),

    async beginRequest({ lineage: name, requestIds }): Promise<StepPlan | null> {
      const lineage = await deps.lineages.get(name);
      const begun: string[] = [];
      for (const id of requestIds) {
        // Retry-safe: a request already UNLEARNING was begun by the lost first attempt.
        const current = await deps.requests.findById(id);
        if (current?.status === 'UNLEARNING') begun.push(id);
        else if (current && ['RECEIVED', 'QUEUED', 'REOPENED'].includes(current.status)) {
          await deps.lifecycle.transitionNow(id, 'UNLEARNING', { actor: SYSTEM_ACTOR, reason: `unlearning on lineage ${name}` });
          begun.push(id);
        } else log(`request ${id} is ${current?.status ?? 'missing'}; not begun`);
      }
      if (begun.length === 0) return null;

      const earlier = (await forgottenBefore(name)).filter((r) => !begun.includes(r.id));
      const cumulative = lineage.strategy === 'CUMULATIVE';
      // Cumulative: a fresh adapter from the base on the union of every forget set so far.
      const toForget = cumulative ? [...earlier.map((r) => r.id), ...begun] : begun;
      const requests = await Promise.all(toForget.map(async (id) => (await deps.requests.findById(id))!));
      const parent = cumulative ? null : await championVersion(name, lineage);
      const file = writeForgetSetFile(forgetSetRoot, requests, await deps.forgetSets.loadMany(toForget));
      const begunRequests = requests.filter((r) => begun.includes(r.id));
      return {
        requestIds: begun,
        parentVersion: cumulative ? null : lineage.championVersion,
        unlearn: {
          baseModel: lineage.baseModel,
          dataset: { path: lineage.datasetPath },
          parentAdapter: parent?.adapterUri && parent.adapterSha256 ? { path: parent.adapterUri, sha256: parent.adapterSha256 } : null,
          forgetSet: { path: file.path, sha256: file.sha256 },
          excludeFromRetain: subjectIdsOf(earlier),
          forgottenBy: cumulative ? [] : holdsOf(await heldAtVersions(name, earlier), []),
          method: lineage.method,
          hyperParameters: lineage.hyperParameters,
          lora: lineage.lora,
          seed: seedOf(name),
          outputRoot: path.join(deps.artifactsDir, 'adapters', name),
        },
        export: { baseModel: lineage.baseModel, lora: lineage.lora, outputRoot: path.join(deps.artifactsDir, 'onnx') },
        audit: {
          lineage: name,
          modelDir: lineage.baseModel.path,
          datasetDir: lineage.datasetPath,
          forgetSubjectIds: subjectIdsOf(begunRequests),
          cumulativeForgetSubjectIds: subjectIdsOf([...earlier, ...begunRequests]),
          baseline: await storedBaseline(name),
          parentMetrics: lineage.championVersion === null ? null : await storedMetrics(name, lineage.championVersion),
          gatePolicy: lineage.gatePolicy,
        },
        maxAttempts: deps.maxAttempts,
        reviewTimeoutMs: deps.reviewTimeoutMs,
        gpuHeartbeatTimeoutMs: deps.gpuHeartbeatTimeoutMs ?? DEFAULT_GPU_HEARTBEAT_TIMEOUT_MS,
        forgetSetFile: file.path,
        reforgetPasses: cumulative ? 0 : lineage.reforgetPasses,
      };
    },

    async recordCandidate(input) {
      const existing = (await deps.versions.listVersions(input.lineage)).find(
        (v) => v.status === 'CANDIDATE' && v.adapterSha256 === input.unlearn.adapter.sha256 && sameIds(v.requestIds, input.requestIds),
      );
      const version =
        existing ??
        (await deps.versions.createCandidate({
          lineage: input.lineage,
          parentNumber: input.parentVersion,
          adapterUri: input.unlearn.adapter.path,
          adapterSha256: input.unlearn.adapter.sha256,
          method: input.method,
          hyperParameters: { ...input.hyperParameters },
          requestIds: input.requestIds,
          reforgottenSubjectIds: input.reforgottenSubjectIds,
          actor: SYSTEM_ACTOR,
          details: {
            attempt: input.attempt,
            steps: input.unlearn.steps,
            finalLoss: input.unlearn.lossCurve.at(-1) ?? null,
            wallSeconds: input.unlearn.wallSeconds,
            reusedArtifact: input.unlearn.reused,
          },
        }));
      for (const id of input.requestIds) {
        const current = await deps.requests.findById(id);
        if (current?.status === 'UNLEARNING') {
          await deps.lifecycle.transitionNow(id, 'AUDITING', { actor: SYSTEM_ACTOR, reason: `auditing version ${version.number}`, data: { version: version.number, attempt: input.attempt } });
        }
      }
      return { version: version.number, snapshot: await snapshot(input.lineage) };
    },

    async recordAudit(input) {
      const already = await auditRowsOf(input.lineage, input.version);
      if (already.some((row) => row.attempt === input.attempt)) return;
      // The whole audit result is stored: reports read the baseline, checks and policy in force from it.
      await deps.versions.recordAudit({
        lineage: input.lineage,
        versionNumber: input.version,
        requestIds: input.requestIds,
        attempt: input.attempt,
        metrics: input.audit,
        decision: input.audit.decision,
        reasons: input.audit.reasons,
        actor: SYSTEM_ACTOR,
      });
      const why = input.audit.reasons.length ? `: ${input.audit.reasons.join('; ')}` : '';
      log(`lineage ${input.lineage} version ${input.version} attempt ${input.attempt}: gate says ${input.audit.decision}${why}`);
    },

    async markNeedsReview(input) {
      for (const id of input.requestIds) {
        const current = await deps.requests.findById(id);
        if (current?.status === 'AUDITING') {
          await deps.lifecycle.transitionNow(id, 'NEEDS_REVIEW', { actor: SYSTEM_ACTOR, reason: input.reasons.join('; ') || 'the gate asks for a review', data: { version: input.version } });
        }
      }
    },

    async promoteCandidate(input) {
      const version = await deps.versions.findVersion(input.lineage, input.version);
      if (version?.status !== 'PROMOTED') await deps.versions.promote(input.lineage, input.version, input.actor, input.reason);
      await purgeFinished(input.lineage, 'COMPLETED', input.requestIds);
      return snapshot(input.lineage);
    },

    async rejectCandidate(input) {
      const version = await deps.versions.findVersion(input.lineage, input.version);
      const requestStatus = input.requestStatus === 'UNCHANGED' ? null : input.requestStatus;
      if (version?.status === 'CANDIDATE') await deps.versions.reject(input.lineage, input.version, input.reason, input.actor, requestStatus);
      if (input.requestStatus === 'UNCHANGED') return snapshot(input.lineage);
      if (input.requestStatus === null) {
        // Another operation follows (a retry or a re-forget pass): the requests go back to UNLEARNING.
        for (const id of input.requestIds) {
          const current = await deps.requests.findById(id);
          if (current && (current.status === 'AUDITING' || current.status === 'NEEDS_REVIEW')) {
            await deps.lifecycle.transitionNow(id, 'UNLEARNING', { actor: SYSTEM_ACTOR, reason: `unlearning again after version ${input.version}: ${input.reason}` });
          }
        }
      } else {
        await purgeFinished(input.lineage, input.requestStatus, input.requestIds);
      }
      return snapshot(input.lineage);
    },

    async failRequests(input) {
      for (const id of input.requestIds) {
        const current = await deps.requests.findById(id);
        if (current && !['FAILED', 'COMPLETED', 'REJECTED', 'CANCELED'].includes(current.status)) {
          await deps.lifecycle.transitionNow(id, 'FAILED', { actor: SYSTEM_ACTOR, reason: input.reason });
        }
      }
      await purgeFinished(input.lineage, 'FAILED', input.requestIds);
    },

    async discardForgetSetFile(file) {
      const dir = path.dirname(path.resolve(file));
      // Only ever delete what beginRequest wrote: one directory directly under the forget-set root.
      if (path.dirname(dir) !== path.resolve(forgetSetRoot)) {
        throw ApplicationFailure.nonRetryable(`path: ${file} is not a forget-set file of this service`, 'BAD_INPUT');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },

    async planReforget({ lineage: name, requestIds, version: number, attempt, aboveAccuracy }) {
      const candidate = await deps.versions.findVersion(name, number);
      if (!candidate?.adapterUri || !candidate.adapterSha256) {
        throw ApplicationFailure.nonRetryable(`version: lineage ${name} has no version ${number} with an adapter to continue`, 'NOT_FOUND');
      }
      const audit = (await auditRowsOf(name, number)).find((row) => row.attempt === attempt)?.metrics as { metrics?: { perSubject?: Record<string, SubjectTally> } } | undefined;
      const perSubject = audit?.metrics?.perSubject;
      // An audit without numbers picks nobody; the gate decides what happens to it.
      if (!perSubject) return null;
      const earlier = (await forgottenBefore(name)).filter((r) => !requestIds.includes(r.id));
      const own = await Promise.all(requestIds.map(async (id) => (await deps.requests.findById(id))!));
      // Only dataset subjects can be re-forgotten: the audit checks only them, and an inline profile of an earlier request is purged.
      const requestOf = new Map<string, DeletionRequest>();
      for (const r of [...earlier, ...own]) if (r.datasetSubjectId !== null) requestOf.set(r.datasetSubjectId, r);
      const forgotten = [...requestOf.keys()];
      const limit = aboveAccuracy ?? (await deps.lineages.get(name)).reforgetAboveAccuracy;
      const trainOn = peopleAbove(Object.fromEntries(forgotten.map((id) => [id, accuracyOfTally(perSubject[id])])), limit);
      if (trainOn.length === 0) return null;
      const heldAt = await heldAtVersions(name, earlier);
      // This step's people, and whom its earlier passes re-forgot, were last trained on by the candidate or a version it continues.
      const parentAdapter = { path: candidate.adapterUri, sha256: candidate.adapterSha256 };
      for (const id of [...subjectIdsOf(own), ...candidate.reforgottenSubjectIds]) heldAt.set(id, parentAdapter);
      const requests = trainOn.map((id) => requestOf.get(id)!);
      // One directory per candidate: a retry of this activity rewrites it instead of leaving a second decrypted copy.
      const file = writeForgetSetFile(forgetSetRoot, requests, await deps.forgetSets.loadMany(requests.map((r) => r.id)), `reforget-${name}-v${number}`);
      const why = `re-forgetting ${trainOn.length} forgotten people whom the audit of version ${number} finds above ${limit}: ${trainOn.join(', ')}`;
      for (const request of own) {
        // Retry-safe: a request already UNLEARNING was moved by the lost first attempt.
        if (request.status === 'AUDITING') {
          await deps.lifecycle.transitionNow(request.id, 'UNLEARNING', { actor: SYSTEM_ACTOR, reason: why, data: { version: number, attempt } });
        }
      }
      log(`lineage ${name} version ${number} attempt ${attempt}: ${why}`);
      return {
        subjectIds: trainOn,
        parentAdapter,
        forgetSet: { path: file.path, sha256: file.sha256 },
        excludeFromRetain: forgotten.filter((id) => !trainOn.includes(id)),
        forgottenBy: holdsOf(heldAt, trainOn),
        forgetSetFile: file.path,
      };
    },

    async rollbackLineage(input) {
      const lineage = await deps.lineages.get(input.lineage);
      if (lineage.championVersion === input.toVersion) {
        // A retry after the rollback committed: report the requests it reopened.
        const reopened = await deps.requests.listByLineageAndStatus(input.lineage, ['REOPENED']);
        return { snapshot: await snapshot(input.lineage), reopenedRequestIds: reopened.map((r) => r.id) };
      }
      const result = await deps.versions.rollback(input.lineage, input.toVersion, input.reason, input.actor);
      return { snapshot: await snapshot(input.lineage), reopenedRequestIds: result.reopenedRequestIds };
    },
  };

  async function championVersion(name: string, lineage: ModelLineage): Promise<ModelVersion | null> {
    return lineage.championVersion === null ? null : deps.versions.findVersion(name, lineage.championVersion);
  }

  async function auditRowsOf(lineage: string, number: number) {
    const version = await deps.versions.findVersion(lineage, number);
    return version ? deps.versions.auditResultsOfVersion(version.id) : [];
  }

  /** The stored audit result (the audit activity's whole output) of a version, newest first. */
  async function storedMetrics(lineage: string, number: number): Promise<any> {
    const rows = await auditRowsOf(lineage, number);
    const latest = rows.at(-1)?.metrics as { metrics?: unknown } | undefined;
    return latest?.metrics ?? null;
  }

  /** Version-0 metrics from any earlier audit of this lineage (the audit returns them as `baseline`). */
  async function storedBaseline(lineage: string): Promise<any> {
    const versions = await deps.versions.listVersions(lineage);
    for (const version of [...versions].reverse()) {
      for (const row of (await deps.versions.auditResultsOfVersion(version.id)).reverse()) {
        const baseline = (row.metrics as { baseline?: unknown } | null)?.baseline;
        if (baseline) return baseline;
      }
    }
    return null;
  }

  return wrapDomainErrors(activities);
}

/** A control-plane refusal is final for this input: do not retry it. */
function wrapDomainErrors<T extends object>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        if (err instanceof AppError) throw ApplicationFailure.nonRetryable(err.message, err.code);
        throw err;
      }
    };
  }
  return wrapped as T;
}

function subjectIdsOf(requests: DeletionRequest[]): string[] {
  return requests.map((r) => r.datasetSubjectId).filter((id): id is string => id !== null);
}

function sameIds(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** A stable seed per lineage: the same forget set on the same parent trains the same adapter. */
function seedOf(lineage: string): number {
  return crypto.createHash('sha256').update(lineage).digest().readUInt32BE(0) & 0x7fffffff;
}

/**
 * Writes the decrypted forget set (contracts/forget-set.schema.json) and its images into a fresh
 * private directory (named `dirName` when given, else a new `step-*`); discardForgetSetFile deletes it.
 */
function writeForgetSetFile(root: string, requests: DeletionRequest[], forgetSets: ForgetSet[], dirName?: string): { path: string; sha256: string } {
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  let dir: string;
  if (dirName) {
    dir = path.join(root, dirName);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { mode: 0o700 });
  } else {
    dir = fs.mkdtempSync(path.join(root, 'step-'));
  }
  const file: ForgetSetFile = { subjects: [] };
  requests.forEach((request, i) => {
    const content = forgetSets[i].content;
    if (!content) {
      // Purged: only a dataset subject can be redone, from the reference kept on the request.
      if (!request.datasetSubjectId) {
        throw ApplicationFailure.nonRetryable(`forgetSet: request ${request.id}'s personal data was purged; it cannot be unlearned again`, 'FORGET_SET_PURGED');
      }
      file.subjects.push({ requestId: request.id, name: request.datasetSubjectName ?? request.datasetSubjectId, datasetSubjectId: request.datasetSubjectId, images: [], facts: [] });
      return;
    }
    const images = content.images.map((image, j) => {
      const imagePath = path.join(dir, `${request.id}-${j}.${image.format === 'jpeg' ? 'jpg' : 'png'}`);
      fs.writeFileSync(imagePath, Buffer.from(image.data, 'base64'), { mode: 0o600 });
      return imagePath;
    });
    file.subjects.push({ requestId: request.id, name: content.name, datasetSubjectId: content.datasetSubjectId, images, facts: content.facts });
  });
  const bytes = Buffer.from(JSON.stringify(file));
  const filePath = path.join(dir, 'forget-set.json');
  fs.writeFileSync(filePath, bytes, { mode: 0o600 });
  return { path: filePath, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}
