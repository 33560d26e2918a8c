// The bookkeeping activities of the lineage workflow (queue `control`): thin adapters from the
// activity contract (activity-types.ts) to the step planner, the candidates and the forget-set
// files. Domain refusals become non-retryable failures; anything else (a database restart, no GPU
// worker yet) is retried by the workflow's retry policy.
import { ApplicationFailure } from '@temporalio/common';
import { AppError } from '../common/errors';
import type { LineagesService } from '../lineages/lineages.service';
import type { ModelVersionsService } from '../lineages/model-versions.service';
import type { ForgetSets } from '../requests/forget-sets.service';
import type { RequestLifecycle } from '../requests/request-lifecycle.service';
import type { RequestOutcomes } from '../requests/request-outcomes.service';
import type { Retention } from '../requests/retention.service';
import type { ControlActivities } from './activity-types';
import { Candidates } from './candidates.service';
import { ForgetSetFiles, type GpuWorkerPresence } from './forget-set-files.service';
import { ActivityRefusal } from './domain/orchestration-error';
import { StepPlanner, type StepSettings } from './step-planner.service';

export interface ControlServices {
  lineages: LineagesService;
  versions: ModelVersionsService;
  lifecycle: RequestLifecycle;
  outcomes: RequestOutcomes;
  retention: Retention;
  forgetSets: ForgetSets;
  gpu: GpuWorkerPresence;
  log?: (message: string) => void;
}

/** The services behind the activities, wired once (the worker module and the tests use this). */
export function createControlPlane(services: ControlServices, settings: StepSettings): { planner: StepPlanner; candidates: Candidates; files: ForgetSetFiles } {
  const log = services.log ?? (() => undefined);
  const files = new ForgetSetFiles(settings.artifactsDir, services.gpu);
  const planner = new StepPlanner(services.lineages, services.versions, services.lifecycle, services.forgetSets, files, settings, log);
  const candidates = new Candidates(services.versions, services.lifecycle, services.outcomes, services.retention, planner, log, settings.artifactsDir);
  return { planner, candidates, files };
}

export function createControlActivities({ planner, candidates, files }: ReturnType<typeof createControlPlane>): ControlActivities {
  return refusalsAreFinal<ControlActivities>({
    describeLineage: (lineage) => planner.snapshot(lineage),
    beginRequest: ({ lineage, requestIds }) => planner.begin(lineage, requestIds),
    planReforget: (input) => planner.reforget(input),
    recordCandidate: (input) => candidates.record(input),
    recordAudit: (input) => candidates.recordAudit(input),
    markNeedsReview: (input) => candidates.markNeedsReview(input),
    promoteCandidate: (input) => candidates.promote(input),
    rejectCandidate: (input) => candidates.reject(input),
    failRequests: (input) => candidates.fail(input),
    completeWithoutUnlearning: (input) => candidates.completeWithoutUnlearning(input),
    rollbackLineage: (input) => candidates.rollback(input),
    discardForgetSetFile: async (file) => files.discard(file),
  });
}

/** A control-plane refusal is final for this input: do not retry it. */
function refusalsAreFinal<T extends object>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        if (err instanceof AppError) throw ApplicationFailure.nonRetryable(err.message, err.code);
        if (err instanceof ActivityRefusal) throw ApplicationFailure.nonRetryable(err.message, err.type);
        throw err;
      }
    };
  }
  return wrapped as T;
}
