// One workflow per model lineage (`lineage:<name>`): a FIFO serializer that carries deletion
// requests one step at a time (a step = one request, or a batch within the lineage's batching
// window) through unlearn -> candidate -> export -> audit -> gate, and serializes rollbacks
// with those steps. Deterministic code only: every side effect is an activity.
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { AuditActivities, AuditActivityOutput, ControlActivities, GpuActivities, LineageSnapshot, ReforgetPlan, StepPlan } from '../src/orchestration/activity-types';
import type { UnlearnOutput } from '../src/common/gpu-contracts';
import { GATE_DECISIONS } from '../src/audits/domain/decision';
import type { GatePolicy } from '../src/audits/domain/gate-policy';
import { forgottenAbove, passTraining, runPasses, type PassCandidate, type PassKind, type PassVerdict } from '../src/orchestration/domain/passes';
import { escalate, type AttemptSettings } from './escalation';
import { GPU_NON_RETRYABLE_ERROR_TYPES } from './gpu-errors';
import { AUDIT_TASK_QUEUE, CONTROL_TASK_QUEUE, GPU_TASK_QUEUE } from './task-queues';
import {
  cancelUpdate,
  enqueueManyUpdate,
  enqueueUpdate,
  reviewUpdate,
  rollbackUpdate,
  stateQuery,
  type LineageWorkflowInput,
  type EnqueueResult,
  type LineageWorkflowState,
  type ReviewInput,
} from './messages';

// Bookkeeping against our own database: retried without limit, so a database restart heals by itself.
const control = proxyActivities<ControlActivities>({
  taskQueue: CONTROL_TASK_QUEUE,
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

// Training heartbeats every step; a silent worker (killed, hung) is retried on another attempt
// after the plan's heartbeat timeout, and a retry with the same input reuses the artifact (see
// contracts/unlearn.input.schema.json).
function gpuActivities(heartbeatTimeoutMs: number) {
  return proxyActivities<GpuActivities>({
    taskQueue: GPU_TASK_QUEUE,
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [...GPU_NON_RETRYABLE_ERROR_TYPES] },
  });
}

// The audit heartbeats between scoring batches: a killed TypeScript worker's audit is retried
// after this, not after the hour-long start-to-close timeout.
const auditor = proxyActivities<AuditActivities>({
  taskQueue: AUDIT_TASK_QUEUE,
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
});

const SYSTEM_ACTOR = 'system:lineage-workflow';

/** A candidate version and its audit. */
interface Audited extends PassCandidate {
  version: number;
  verdict: AuditActivityOutput;
  /** Dataset subjects beyond the requests' own that the passes leading to this version re-forgot. */
  reforgotten: string[];
}
const AUDIT_DECISIONS = new Set<string>(GATE_DECISIONS);
/** An audit without a valid policy never passes the gate, so no per-person rule applies to its passes. */
const NO_GOAL: GatePolicy['goal'] = { maxForgottenAccuracy: 1, passes: 0 };
const ROLLBACK_TARGET_STATUSES = new Set(['PROMOTED', 'SUPERSEDED']);

export function initialLineageState(lineage: string): LineageWorkflowState {
  return { lineage, queue: [], known: [], active: null, snapshot: null, exports: {}, stepsFinished: 0 };
}

/**
 * How many finished requests the workflow still remembers: enough to turn a retried enqueue (the outbox
 * resends a batch whose answer it lost) into a no-op. The database remembers the rest, and the outbox
 * only sends stored, unqueued requests, so the workflow's state stays small after any number of requests.
 */
export const FINISHED_REQUESTS_REMEMBERED = 1000;

/** Drops the oldest finished requests from `known` beyond FINISHED_REQUESTS_REMEMBERED; queued and active ones stay. */
export function forgetOldFinished(state: LineageWorkflowState): void {
  const live = new Set([...state.queue.map((q) => q.requestId), ...(state.active?.requestIds ?? [])]);
  const finished = state.known.filter((id) => !live.has(id));
  const excess = finished.length - FINISHED_REQUESTS_REMEMBERED;
  if (excess <= 0) return;
  const dropped = new Set(finished.slice(0, excess));
  state.known = state.known.filter((id) => !dropped.has(id));
}

/**
 * Queues a request unless the workflow knows it already (a retried enqueue, a second API process):
 * then it is a no-op that answers the request's place, if still queued. Trims the memory of
 * finished requests as it grows: amortised, only once they exceed the bound by half again.
 */
export function enqueueRequest(state: LineageWorkflowState, requestId: string, now: number): EnqueueResult {
  if (state.known.includes(requestId)) return { accepted: false, position: state.queue.findIndex((q) => q.requestId === requestId) };
  if (state.known.length - state.queue.length > FINISHED_REQUESTS_REMEMBERED * 1.5) forgetOldFinished(state);
  state.known.push(requestId);
  state.queue.push({ requestId, queuedAt: now });
  return { accepted: true, position: state.queue.length - 1 };
}

/** Takes a queued request out of the queue; false when it is not queued (begun, finished, or never queued). It stays known. */
export function cancelQueued(state: LineageWorkflowState, requestId: string): boolean {
  const index = state.queue.findIndex((q) => q.requestId === requestId);
  if (index < 0) return false;
  state.queue.splice(index, 1);
  return true;
}

/** The requests the next step takes: the head of the queue plus everything queued within the window after it. */
function nextBatch(state: LineageWorkflowState, batchingWindowMs: number): string[] {
  const head = state.queue[0];
  if (!head) return [];
  if (batchingWindowMs <= 0) return [head.requestId];
  return state.queue.filter((q) => q.queuedAt <= head.queuedAt + batchingWindowMs).map((q) => q.requestId);
}

/** Takes the next step's requests out of the queue (they stay known). */
export function takeNextBatch(state: LineageWorkflowState, batchingWindowMs: number): string[] {
  const batch = nextBatch(state, batchingWindowMs);
  state.queue = state.queue.filter((q) => !batch.includes(q.requestId));
  return batch;
}

export async function lineageWorkflow(input: LineageWorkflowInput): Promise<void> {
  const state: LineageWorkflowState = input.state ?? initialLineageState(input.lineage);
  const lineage = state.lineage;
  // Steps and rollbacks exclude each other: a rollback never moves the champion under a running step.
  let busy = false;
  // The review decision for the active step; only accepted while that step waits for one.
  let review: ReviewInput | null = null;

  async function acquire(ready: () => boolean): Promise<void> {
    for (;;) {
      await condition(() => !busy && ready());
      // Several waiters can wake in the same activation: only the first one takes the lock.
      if (!busy && ready()) {
        busy = true;
        return;
      }
    }
  }

  setHandler(stateQuery, () => state);

  const enqueue = (requestId: string): EnqueueResult => enqueueRequest(state, requestId, Date.now());

  setHandler(enqueueUpdate, ({ requestId }) => enqueue(requestId), {
    validator: (update) => {
      requireText(update?.requestId, 'requestId');
    },
  });

  // The API's outbox queues every stored request of a lineage in one update: one workflow task for many.
  setHandler(enqueueManyUpdate, ({ requestIds }) => requestIds.map(enqueue), {
    validator: (update) => {
      if (!Array.isArray(update?.requestIds)) throw ApplicationFailure.nonRetryable('requestIds: must be a list', 'BAD_USER_INPUT');
      update.requestIds.forEach((id: unknown, i: number) => requireText(id, `requestIds[${i}]`));
    },
  });

  setHandler(
    cancelUpdate,
    ({ requestId }) => cancelQueued(state, requestId),
    {
      validator: (update) => {
        requireText(update?.requestId, 'requestId');
        if (!state.known.includes(update.requestId)) {
          throw ApplicationFailure.nonRetryable(`requestId: request ${update.requestId} was never queued on lineage ${lineage}`, 'NOT_FOUND');
        }
      },
    },
  );

  setHandler(
    reviewUpdate,
    (update) => {
      review = update;
    },
    {
      validator: (update) => {
        requireText(update?.requestId, 'requestId');
        if (update.decision !== 'APPROVE' && update.decision !== 'REJECT') {
          throw ApplicationFailure.nonRetryable(`decision: must be APPROVE or REJECT, got ${JSON.stringify(update.decision)}`, 'BAD_USER_INPUT');
        }
        requireText(update.reason, 'reason');
        requireText(update.actor, 'actor');
        const active = state.active;
        if (!active || active.phase !== 'NEEDS_REVIEW' || !active.requestIds.includes(update.requestId)) {
          throw ApplicationFailure.nonRetryable(`requestId: request ${update.requestId} is not waiting for a review`, 'CONFLICT');
        }
        if (review !== null) {
          throw ApplicationFailure.nonRetryable(`requestId: request ${update.requestId} was already reviewed`, 'CONFLICT');
        }
      },
    },
  );

  setHandler(
    rollbackUpdate,
    async ({ toVersion, reason, actor }) => {
      await acquire(() => true);
      try {
        state.active = { requestIds: [], phase: 'ROLLING_BACK', attempt: 0, reforgetPass: 0, candidateVersion: null };
        const snapshot = await loadSnapshot();
        checkRollbackTarget(snapshot, toVersion);
        const result = await control.rollbackLineage({ lineage, toVersion, reason, actor });
        state.snapshot = result.snapshot;
        // The legal duty to forget survives a rollback: the undone requests go first, oldest first.
        const reopened = result.reopenedRequestIds.filter((id) => !state.queue.some((q) => q.requestId === id));
        const now = Date.now();
        state.queue.unshift(...reopened.map((requestId) => ({ requestId, queuedAt: now })));
        for (const id of reopened) if (!state.known.includes(id)) state.known.push(id);
        return { championVersion: result.snapshot.championVersion, reopenedRequestIds: result.reopenedRequestIds };
      } finally {
        state.active = null;
        busy = false;
      }
    },
    {
      validator: (update) => {
        if (!Number.isInteger(update?.toVersion) || update.toVersion < 0) {
          throw ApplicationFailure.nonRetryable(`toVersion: must be a non-negative integer, got ${JSON.stringify(update?.toVersion)}`, 'BAD_USER_INPUT');
        }
        requireText(update.reason, 'reason');
        requireText(update.actor, 'actor');
        // Before the first describeLineage the handler checks against a fresh snapshot instead. While
        // a step runs the snapshot lags the database (a request reads COMPLETED before promote
        // returns), so the handler checks after the step instead of refusing on stale data here.
        if (state.snapshot && state.active === null) checkRollbackTarget(state.snapshot, update.toVersion);
        // A rollback waits for the running step, but a review may take days: refuse instead of hanging.
        if (state.active?.phase === 'NEEDS_REVIEW') {
          throw ApplicationFailure.nonRetryable(`toVersion: version ${state.active.candidateVersion} awaits a review; review it before rolling back`, 'CONFLICT');
        }
      },
    },
  );

  async function loadSnapshot(): Promise<LineageSnapshot> {
    if (!state.snapshot) state.snapshot = await control.describeLineage(lineage);
    return state.snapshot;
  }

  await loadSnapshot();

  for (;;) {
    await condition(() => !busy && (state.queue.length > 0 || workflowInfo().continueAsNewSuggested));
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (!busy) {
        log.info('continuing as new', { lineage, queued: state.queue.length, known: state.known.length });
        return await continueAsNew<typeof lineageWorkflow>({ lineage, state });
      }
      continue;
    }
    const windowMs = state.snapshot?.batchingWindowMs ?? 0;
    const waitMs = state.queue[0].queuedAt + windowMs - Date.now();
    if (waitMs > 0) {
      // Let requests arriving within the window join this step (they stay cancelable meanwhile).
      await sleep(waitMs);
      continue;
    }
    await acquire(() => state.queue.length > 0);
    try {
      await runStep(takeNextBatch(state, windowMs));
    } finally {
      busy = false;
    }
  }

  /** One step. Any failure marks its requests FAILED with the reason; the workflow goes on. */
  async function runStep(requestIds: string[]): Promise<void> {
    const active = (state.active = { requestIds, phase: 'PREPARING' as const, attempt: 0, reforgetPass: 0, candidateVersion: null as number | null });
    let plan: StepPlan | null = null;
    try {
      // null: none of them could begin (canceled meanwhile).
      plan = await control.beginRequest({ lineage, requestIds });
      active.requestIds = plan?.requestIds ?? [];
      if (plan) await unlearnAuditAndGate(plan);
    } catch (err) {
      if (isCancellation(err)) throw err;
      await failStep(active.requestIds, active.candidateVersion, describeFailure(err));
    } finally {
      if (plan) await discardForgetSet(plan.forgetSetFile);
      review = null;
      state.active = null;
      state.stepsFinished += 1;
    }
  }

  async function unlearnAuditAndGate(plan: StepPlan): Promise<void> {
    const active = state.active!;
    const requestIds = plan.requestIds;
    // Histories from before this check skip it (the marker); only steps of inline profiles reach it.
    if (onlyInlineProfiles(plan) && (await completedWithoutUnlearning(plan))) return;
    let settings: AttemptSettings = { method: plan.unlearn.method, hyperParameters: plan.unlearn.hyperParameters };
    for (let attempt = 1; ; attempt++) {
      active.attempt = attempt;
      active.reforgetPass = 0;
      active.phase = 'UNLEARNING';
      const trained = await gpuActivities(plan.gpuHeartbeatTimeoutMs).unlearn({ ...plan.unlearn, method: settings.method, hyperParameters: settings.hyperParameters });
      const first = await recordAndAudit(plan, attempt, settings, trained, plan.parentVersion, []);
      const { version, verdict } = await reforget(plan, attempt, settings, first);
      // Fail closed: only an explicit PASS (or a human approval after REVIEW) promotes.
      if (!AUDIT_DECISIONS.has(verdict.decision)) {
        throw ApplicationFailure.nonRetryable(`audit returned an unknown decision ${JSON.stringify(verdict.decision)}`, 'AUDIT_INVALID');
      }
      if (verdict.decision === 'PASS') {
        await promote(version, requestIds, SYSTEM_ACTOR, `audit passed on attempt ${attempt}`);
        return;
      }
      if (verdict.decision === 'REVIEW') {
        await awaitReview(plan, version, verdict);
        return;
      }
      // FAIL: the retry budget is the workflow's.
      if (attempt >= plan.maxAttempts) {
        await reject(version, requestIds, 'FAILED', `audit did not pass after ${attempt} attempts: ${verdict.reasons.join('; ')}`, SYSTEM_ACTOR);
        return;
      }
      if (!verdict.escalation) {
        throw ApplicationFailure.nonRetryable('audit returned FAIL without an escalation', 'AUDIT_INVALID');
      }
      await reject(version, requestIds, null, `retrying with escalated settings: ${verdict.reasons.join('; ')}`, SYSTEM_ACTOR);
      active.candidateVersion = null;
      settings = escalate(settings, verdict.escalation);
    }
  }

  /**
   * Scores version 0 on the step's people first: when it shows no more knowledge of them than of people it
   * never saw (and the policy does not require unlearning anyway), the step completes without training,
   * its version-0 audit the evidence. False: train as usual.
   */
  async function completedWithoutUnlearning(plan: StepPlan): Promise<boolean> {
    state.active!.phase = 'AUDITING';
    const exported = await exportOnce(plan);
    const verdict = await auditor.audit({ ...plan.audit, versionNumber: 0, exportDir: exported.dir, adapter: null, attempt: 1 });
    if (verdict.noKnowledgeFound !== true || verdict.gatePolicy?.forget.requireUnlearning !== false) return false;
    state.active!.phase = 'FINISHING';
    state.snapshot = await control.completeWithoutUnlearning({ lineage, requestIds: plan.requestIds, audit: verdict });
    return true;
  }

  /** Records a trained adapter as a candidate version, audits it, and records the audit. */
  async function recordAndAudit(plan: StepPlan, attempt: number, settings: AttemptSettings, trained: UnlearnOutput, parentVersion: number | null, reforgotten: string[]): Promise<Audited> {
    const active = state.active!;
    const candidate = await control.recordCandidate({
      lineage, requestIds: plan.requestIds, parentVersion, attempt,
      method: settings.method, hyperParameters: settings.hyperParameters, unlearn: trained,
      ...(reforgotten.length > 0 ? { reforgottenSubjectIds: reforgotten } : {}),
    });
    state.snapshot = candidate.snapshot;
    active.candidateVersion = candidate.version;
    active.phase = 'AUDITING';
    const exported = await exportOnce(plan);
    const verdict = await auditor.audit({
      ...plan.audit, versionNumber: candidate.version, exportDir: exported.dir, adapter: trained.adapter, attempt,
    });
    await control.recordAudit({ lineage, version: candidate.version, requestIds: plan.requestIds, attempt, audit: verdict });
    return { version: candidate.version, verdict, reforgotten, passesGate: verdict.decision === 'PASS', metrics: verdict.metrics };
  }

  /**
   * The step's re-forget passes (plan.reforgetPasses), then its goal passes (the gate policy's `goal`), each a
   * version of its own continuing the candidate kept so far, trained on the forgotten people its audit still
   * finds above a line (planReforget), and audited; src/orchestration/domain/passes.ts decides which is kept.
   * Returns the candidate to gate; every other one is rejected with the requests left where they are.
   */
  async function reforget(plan: StepPlan, attempt: number, settings: AttemptSettings, first: Audited): Promise<Audited> {
    const active = state.active!;
    const goal = first.verdict.gatePolicy?.goal ?? NO_GOAL;
    const passName = (kind: PassKind, pass: number) => `${kind === 'goal' ? 'goal' : 're-forget'} pass ${pass} of attempt ${attempt}`;
    return runPasses<Audited, ReforgetPlan>(first, { reforgetPasses: plan.reforgetPasses ?? 0, goal }, {
      plan: (kind, _pass, current) =>
        control.planReforget({ lineage, requestIds: plan.requestIds, version: current.version, attempt, ...(kind === 'goal' ? { aboveAccuracy: goal.maxForgottenAccuracy } : {}) }),
      train: (kind, pass, current, next) => {
        active.reforgetPass += 1;
        return trainPass(plan, attempt, settings, current, next, passTraining(kind, pass, plan.unlearn.seed, settings.hyperParameters));
      },
      keep: async (kind, pass, replaced, passed, next) => {
        const above = kind === 'goal' ? `the ${next.subjectIds.length} forgotten people its audit finds above ${goal.maxForgottenAccuracy}` : `${next.subjectIds.length} forgotten people its audit finds above the limit`;
        await reject(replaced.version, plan.requestIds, 'UNCHANGED', `continued by ${passName(kind, pass)} (version ${passed.version}) on ${above}: ${next.subjectIds.join(', ')}`, SYSTEM_ACTOR);
      },
      drop: async (kind, pass, kept, passed, next, verdict) => {
        await reject(passed.version, plan.requestIds, 'UNCHANGED', droppedPassReason(passName(kind, pass), kind, kept, passed, next, verdict, goal), SYSTEM_ACTOR);
        active.candidateVersion = kept.version;
      },
    });
  }

  /**
   * One pass: trains on the people next names, continuing the candidate from, then records and audits
   * the result as a version whose parent is from. The pass's forget set is discarded even when training fails.
   */
  async function trainPass(
    plan: StepPlan, attempt: number, settings: AttemptSettings, from: Audited, next: ReforgetPlan,
    training: { seed: number; hyperParameters: AttemptSettings['hyperParameters'] },
  ): Promise<Audited> {
    state.active!.phase = 'UNLEARNING';
    let trained: UnlearnOutput;
    try {
      trained = await gpuActivities(plan.gpuHeartbeatTimeoutMs).unlearn({
        ...plan.unlearn, method: settings.method, ...training,
        parentAdapter: next.parentAdapter, forgetSet: next.forgetSet, excludeFromRetain: next.excludeFromRetain, forgottenBy: next.forgottenBy,
      });
    } finally {
      await discardForgetSet(next.forgetSetFile);
    }
    return recordAndAudit(plan, attempt, settings, trained, from.version, [...new Set([...from.reforgotten, ...next.subjectIds])]);
  }

  async function awaitReview(plan: StepPlan, version: number, verdict: AuditActivityOutput): Promise<void> {
    const active = state.active!;
    // Accept reviews from here on: the API lets an operator review as soon as the database says
    // NEEDS_REVIEW, which markNeedsReview records before this workflow sees its completion.
    active.phase = 'NEEDS_REVIEW';
    await control.markNeedsReview({ lineage, version, requestIds: plan.requestIds, reasons: verdict.reasons });
    // No more training in this step: the decrypted forget set need not wait for the reviewer.
    await discardForgetSet(plan.forgetSetFile);
    const decided = await condition(() => review !== null, Math.max(1, plan.reviewTimeoutMs));
    active.phase = 'FINISHING';
    const decision = review as ReviewInput | null;
    if (!decided || !decision) {
      await reject(version, plan.requestIds, 'REJECTED', `no review within ${plan.reviewTimeoutMs} ms; not promoted (fail closed)`, SYSTEM_ACTOR);
    } else if (decision.decision === 'APPROVE') {
      await promote(version, plan.requestIds, decision.actor, decision.reason);
    } else {
      await reject(version, plan.requestIds, 'REJECTED', decision.reason, decision.actor);
    }
  }

  async function discardForgetSet(file: string): Promise<void> {
    try {
      await control.discardForgetSetFile(file);
    } catch (err) {
      if (isCancellation(err)) throw err;
      // A refused delete must not stop the lineage; the log names the file for an operator.
      log.error('could not discard the forget-set file', { lineage, file, error: describeFailure(err) });
    }
  }

  async function exportOnce(plan: StepPlan): Promise<{ dir: string; manifestPath: string }> {
    const key = JSON.stringify([plan.export.baseModel.id, plan.export.lora]);
    if (!state.exports[key]) {
      const out = await gpuActivities(plan.gpuHeartbeatTimeoutMs).export_onnx(plan.export);
      state.exports[key] = { dir: out.dir, manifestPath: out.manifestPath };
    }
    return state.exports[key];
  }

  async function promote(version: number, requestIds: string[], actor: string, reason: string): Promise<void> {
    state.active!.phase = 'FINISHING';
    state.snapshot = await control.promoteCandidate({ lineage, version, requestIds, actor, reason });
  }

  async function reject(version: number, requestIds: string[], requestStatus: 'REJECTED' | 'FAILED' | 'UNCHANGED' | null, reason: string, actor: string): Promise<void> {
    state.snapshot = await control.rejectCandidate({ lineage, version, requestIds, reason, actor, requestStatus });
  }

  async function failStep(requestIds: string[], candidateVersion: number | null, reason: string): Promise<void> {
    try {
      if (candidateVersion !== null) await reject(candidateVersion, requestIds, 'FAILED', reason, SYSTEM_ACTOR);
      else if (requestIds.length > 0) await control.failRequests({ lineage, requestIds, reason });
    } catch (err) {
      // Bookkeeping refused the failure itself (a non-retryable domain error): keep serving the queue.
      log.error('could not record a failed step', { lineage, requestIds, reason, error: describeFailure(err) });
    }
  }
}

/** Why a pass was rejected and the candidate it continued kept, with the numbers that decided it. */
function droppedPassReason(
  name: string, kind: PassKind, kept: Audited, passed: Audited, next: ReforgetPlan,
  verdict: Exclude<PassVerdict, { keep: true }>, goal: GatePolicy['goal'],
): string {
  const line = goal.maxForgottenAccuracy;
  if (kind === 'goal') {
    const [before, after] = [forgottenAbove(kept.metrics, line), forgottenAbove(passed.metrics, line)];
    return `${name} on ${next.subjectIds.join(', ')} leaves ${after ?? 'unknown'} forgotten people above ${line} (gate: ${passed.verdict.decision}) where version ${kept.version} left ${before}; version ${kept.version} is kept`;
  }
  if (verdict.because === 'FAILS_GATE') {
    return `${name} did not pass the gate, version ${kept.version} did and is kept: ${passed.verdict.reasons.join('; ')}`;
  }
  return `${name} leaves ${verdict.after} forgotten people above ${line} where version ${kept.version} left ${verdict.before}; version ${kept.version} is kept`;
}

/** A step whose people are all described inline: the ones whose knowledge version 0 may never have had. */
function onlyInlineProfiles(plan: StepPlan): boolean {
  return (plan.audit.inlineProfiles?.requestIds.length ?? 0) > 0 && plan.audit.forgetSubjectIds.length === 0;
}

function requireText(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw ApplicationFailure.nonRetryable(`${field}: must be a non-empty string`, 'BAD_USER_INPUT');
  }
}

function checkRollbackTarget(snapshot: LineageSnapshot, toVersion: number): void {
  const target = snapshot.versions.find((v) => v.number === toVersion);
  if (!target) throw ApplicationFailure.nonRetryable(`toVersion: version ${toVersion} does not exist`, 'NOT_FOUND');
  if (!ROLLBACK_TARGET_STATUSES.has(target.status)) {
    throw ApplicationFailure.nonRetryable(`toVersion: version ${toVersion} is ${target.status}; only PROMOTED or SUPERSEDED versions can become champion again`, 'BAD_USER_INPUT');
  }
  if (snapshot.championVersion === null || toVersion >= snapshot.championVersion) {
    throw ApplicationFailure.nonRetryable(`toVersion: must be earlier than the champion (version ${snapshot.championVersion})`, 'BAD_USER_INPUT');
  }
}

/** "unlearn failed: NAN_LOSS: loss became NaN at step 3" — the reason stored on FAILED requests. */
function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    const type = cause instanceof ApplicationFailure && cause.type ? `${cause.type}: ` : '';
    return `${err.activityType} failed: ${type}${cause?.message ?? err.message}`;
  }
  if (err instanceof ApplicationFailure) return `${err.type ? `${err.type}: ` : ''}${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
