// The audit activity wired to the real runtime (onnxruntime-node + transformers.js preprocessing):
// what the `audit` task queue's worker registers.
import { asyncLocalStorage } from '@temporalio/activity';
import { ExecutionProvider, loadEvalItems, loadInlineProfiles, loadProbeWorld, openScorer } from '../runtime';
import { AuditActivityImplementations, createAuditActivities } from './audit-activities';

export interface RuntimeAuditOptions {
  /** CPU by default; CUDA falls back to CPU with a logged warning. */
  executionProvider?: ExecutionProvider;
  log?: (message: string) => void;
}

export function createRuntimeAuditActivities(options: RuntimeAuditOptions = {}): AuditActivityImplementations {
  const log = options.log ?? ((message: string) => console.log(`[audit] ${message}`));
  return createAuditActivities({
    openScorer: (scorer) => openScorer({ ...scorer, executionProvider: options.executionProvider, log }),
    loadEvalItems: (datasetDir) => loadEvalItems(datasetDir),
    loadProbeWorld: (datasetDir) => loadProbeWorld(datasetDir),
    loadInlineProfiles: (file, requestIds) => loadInlineProfiles(file, requestIds),
    // Heartbeat only inside a Temporal activity; tests and the benchmark call audit() directly.
    heartbeat: (progress) => asyncLocalStorage.getStore()?.heartbeat(progress),
    log,
  });
}
