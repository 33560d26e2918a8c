// How a RETRY decision changes the next attempt. Pure and deterministic (runs in the workflow).
import type { HyperParameters, UnlearnMethod } from '../src/orchestration/contracts';
import type { AuditActivityOutput } from '../src/orchestration/activity-types';

export interface AttemptSettings {
  method: UnlearnMethod;
  hyperParameters: HyperParameters;
}

/**
 * The audit's suggestion wins when it gives one; otherwise the forgetting was too weak, so the
 * next attempt trains harder: twice the learning rate and one more epoch.
 */
export function escalate(previous: AttemptSettings, suggestion: AuditActivityOutput['escalation']): AttemptSettings {
  if (suggestion && (suggestion.method || suggestion.hyperParameters)) {
    return {
      method: suggestion.method ?? previous.method,
      hyperParameters: { ...previous.hyperParameters, ...(suggestion.hyperParameters ?? {}) },
    };
  }
  return {
    method: previous.method,
    hyperParameters: {
      ...previous.hyperParameters,
      learningRate: previous.hyperParameters.learningRate * 2,
      epochs: previous.hyperParameters.epochs + 1,
    },
  };
}
