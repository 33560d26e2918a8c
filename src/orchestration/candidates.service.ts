// Candidates and their fate: recording a trained adapter as a version and its audit, and carrying
// out the workflow's decision on it (review, promotion, rejection, failure, rollback) through the
// services that own those rules. Every method is retry-safe: a retry after a lost completion
// finds the work done and changes nothing more.
import fs from 'node:fs';
import path from 'node:path';
import type { ModelVersionsService } from '../lineages/model-versions.service';
import { AWAITING_DECISION, UNFINISHED } from '../requests/domain/request-status';
import type { RequestLifecycle } from '../requests/request-lifecycle.service';
import type { RequestOutcomes } from '../requests/request-outcomes.service';
import type { Retention } from '../requests/retention.service';
import type {
  CompleteWithoutUnlearningInput,
  FailRequestsInput,
  LineageSnapshot,
  MarkNeedsReviewInput,
  PromoteInput,
  RecordAuditInput,
  RecordCandidateInput,
  RejectCandidateInput,
  RollbackLineageInput,
  RollbackLineageResult,
} from './activity-types';
import { ActivityRefusal } from './domain/orchestration-error';
import { sameIds } from './domain/step-plan';
import { SYSTEM_ACTOR, type StepPlanner } from './step-planner.service';

export class Candidates {
  constructor(
    private readonly versions: ModelVersionsService,
    private readonly lifecycle: RequestLifecycle,
    private readonly outcomes: RequestOutcomes,
    private readonly retention: Retention,
    private readonly planner: Pick<StepPlanner, 'snapshot'>,
    private readonly log: (message: string) => void,
    /** Adapters live under `<artifactsDir>/adapters/<lineage>/`; nothing outside is ever deleted. */
    private readonly artifactsDir: string,
  ) {}

  async record(input: RecordCandidateInput): Promise<{ version: number; snapshot: LineageSnapshot }> {
    const existing = (await this.versions.listVersions(input.lineage)).find(
      (v) => v.status === 'CANDIDATE' && v.adapterSha256 === input.unlearn.adapter.sha256 && sameIds(v.requestIds, input.requestIds),
    );
    const version =
      existing ??
      (await this.versions.createCandidate({
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
    await this.lifecycle.moveWhere(input.requestIds, ['UNLEARNING'], 'AUDITING', {
      actor: SYSTEM_ACTOR,
      reason: `auditing version ${version.number}`,
      data: { version: version.number, attempt: input.attempt },
    });
    return { version: version.number, snapshot: await this.planner.snapshot(input.lineage) };
  }

  async recordAudit(input: RecordAuditInput): Promise<void> {
    const version = await this.versions.findVersion(input.lineage, input.version);
    const already = version ? await this.versions.auditResultsOfVersion(version.id) : [];
    if (already.some((row) => row.attempt === input.attempt)) return;
    // The whole audit result is stored: reports read the baseline, checks and policy in force from it.
    await this.versions.recordAudit({
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
    this.log(`lineage ${input.lineage} version ${input.version} attempt ${input.attempt}: gate says ${input.audit.decision}${why}`);
  }

  async markNeedsReview(input: MarkNeedsReviewInput): Promise<void> {
    await this.lifecycle.moveWhere(input.requestIds, ['AUDITING'], 'NEEDS_REVIEW', {
      actor: SYSTEM_ACTOR,
      reason: input.reasons.join('; ') || 'the gate asks for a review',
      data: { version: input.version },
    });
  }

  async promote(input: PromoteInput): Promise<LineageSnapshot> {
    const version = await this.versions.findVersion(input.lineage, input.version);
    if (version?.status !== 'PROMOTED') await this.outcomes.promote(input.lineage, input.version, input.actor, input.reason);
    await this.retention.purgeFinished(input.lineage, 'COMPLETED', input.requestIds, SYSTEM_ACTOR);
    await this.deleteRejectedAdapters(input.lineage);
    return this.planner.snapshot(input.lineage);
  }

  async reject(input: RejectCandidateInput): Promise<LineageSnapshot> {
    const version = await this.versions.findVersion(input.lineage, input.version);
    const requestStatus = input.requestStatus === 'UNCHANGED' ? null : input.requestStatus;
    if (version?.status === 'CANDIDATE') await this.outcomes.reject(input.lineage, input.version, input.reason, input.actor, requestStatus);
    if (input.requestStatus === null) {
      // Another operation follows (a retry or a re-forget pass): the requests go back to UNLEARNING.
      await this.lifecycle.moveWhere(input.requestIds, AWAITING_DECISION, 'UNLEARNING', {
        actor: SYSTEM_ACTOR,
        reason: `unlearning again after version ${input.version}: ${input.reason}`,
      });
    } else if (input.requestStatus !== 'UNCHANGED') {
      await this.retention.purgeFinished(input.lineage, input.requestStatus, input.requestIds, SYSTEM_ACTOR);
      await this.deleteRejectedAdapters(input.lineage);
    }
    return this.planner.snapshot(input.lineage);
  }

  /**
   * Completes a step without training: version 0 showed no more knowledge of its people than of people it
   * never saw. Its version-0 audit is recorded for each request as the evidence, and the requests are
   * carried out by version 0 (no rollback can undo what no version learned).
   */
  async completeWithoutUnlearning(input: CompleteWithoutUnlearningInput): Promise<LineageSnapshot> {
    const base = await this.versions.findVersion(input.lineage, 0);
    if (!base) throw new ActivityRefusal('NOT_FOUND', `lineage: ${input.lineage} has no version 0`);
    // Idempotent per request: version 0 also holds the no-knowledge audits of earlier requests.
    const recorded = new Set((await this.versions.auditResultsOfVersion(base.id)).map((row) => row.requestId));
    const missing = input.requestIds.filter((id) => !recorded.has(id));
    if (missing.length > 0) {
      await this.versions.recordAudit({
        lineage: input.lineage, versionNumber: 0, requestIds: missing, attempt: 1,
        metrics: input.audit, decision: input.audit.decision, reasons: input.audit.reasons, actor: SYSTEM_ACTOR,
      });
    }
    const reason = noKnowledgeReason(input.audit);
    await this.lifecycle.moveWhere(input.requestIds, ['UNLEARNING'], 'AUDITING', { actor: SYSTEM_ACTOR, reason: 'auditing version 0 before unlearning', data: { version: 0 } });
    await this.lifecycle.moveWhere(input.requestIds, ['AUDITING'], 'COMPLETED', { actor: SYSTEM_ACTOR, reason, modelVersionId: base.id, data: { version: 0, unlearned: false } });
    await this.retention.purgeFinished(input.lineage, 'COMPLETED', input.requestIds, SYSTEM_ACTOR, { rollbackCanUndo: false });
    this.log(`lineage ${input.lineage}: ${input.requestIds.join(', ')} completed without unlearning: ${reason}`);
    return this.planner.snapshot(input.lineage);
  }

  async fail(input: FailRequestsInput): Promise<void> {
    await this.lifecycle.moveWhere(input.requestIds, UNFINISHED, 'FAILED', { actor: SYSTEM_ACTOR, reason: input.reason });
    await this.retention.purgeFinished(input.lineage, 'FAILED', input.requestIds, SYSTEM_ACTOR);
    await this.deleteRejectedAdapters(input.lineage);
  }

  async rollback(input: RollbackLineageInput): Promise<RollbackLineageResult> {
    const { championVersion } = await this.planner.snapshot(input.lineage);
    // A retry after the rollback committed: report the requests it reopened.
    const reopenedRequestIds =
      championVersion === input.toVersion
        ? (await this.lifecycle.inLineage(input.lineage, ['REOPENED'])).map((r) => r.id)
        : await this.outcomes.rollback(input.lineage, input.toVersion, input.reason, input.actor);
    return { snapshot: await this.planner.snapshot(input.lineage), reopenedRequestIds };
  }

  /**
   * Deletes the adapters of the lineage's REJECTED versions once its step has ended. A rejected
   * candidate was trained on the step's people, and nothing can reach it any more: a rollback
   * targets PROMOTED or SUPERSEDED versions only, later steps continue from the champion and hold
   * forgotten people at promoted adapters, and only passes of the step that rejected it could
   * continue from it (hence not earlier: a mid-step rejection keeps its files). Steps and rollbacks
   * of a lineage never overlap, so at a step's end no step runs. The event comes before the
   * deletion: a crash between them leaves the files for the next step's end, never a deletion
   * without its event. The version row (hash, hyper-parameters, audit) stays as evidence.
   */
  private async deleteRejectedAdapters(lineage: string): Promise<void> {
    const versions = await this.versions.listVersions(lineage);
    const root = path.resolve(this.artifactsDir, 'adapters', lineage);
    const dirOf = (uri: string) => path.dirname(path.resolve(uri));
    const kept = new Set(versions.filter((v) => v.status !== 'REJECTED' && v.adapterUri).map((v) => dirOf(v.adapterUri!)));
    for (const version of versions) {
      if (version.status !== 'REJECTED' || !version.adapterUri) continue;
      const dir = dirOf(version.adapterUri);
      // A retry with the same input reuses an artifact: never delete one a kept version still uses.
      if (kept.has(dir) || path.dirname(dir) !== root || !fs.existsSync(dir)) continue;
      await this.versions.recordAdapterDeleted(lineage, version.number, SYSTEM_ACTOR, `retention: version ${version.number} was rejected and no rollback can reach it`);
      fs.rmSync(dir, { recursive: true, force: true });
      this.log(`lineage ${lineage}: deleted the adapter of rejected version ${version.number}`);
    }
  }
}

/** "the model showed no knowledge of this person before unlearning" with version 0's numbers on the request's questions. */
export function noKnowledgeReason(audit: CompleteWithoutUnlearningInput['audit']): string {
  const base = audit.baseline;
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toPrecision(3));
  const numbers = base
    ? (['text', 'multimodal'] as const)
        .map((m) => `${m} ${base.forget[m].correct}/${base.forget[m].total} right (forget quality ${fmt(base.forgetting?.forget[m].forgetQuality?.pValue)}, loss-attack AUC ${fmt(base.forgetting?.forget[m].miaAuc?.auc)})`)
        .join('; ')
    : 'no numbers';
  return `no unlearning needed: the model showed no knowledge of this person before unlearning (version 0 against never-seen people: ${numbers})`;
}
