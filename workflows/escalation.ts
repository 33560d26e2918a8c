// How a RETRY decision changes the next attempt. Pure and deterministic (runs in the workflow).
import type { HyperParameters, UnlearnMethod } from '../src/orchestration/contracts';
import type { AuditActivityOutput } from '../src/orchestration/activity-types';

export interface AttemptSettings {
  method: UnlearnMethod;
  hyperParameters: HyperParameters;
}

/** Without a suggestion from the audit, a retry trains harder: twice the learning rate, one more epoch. */
const DEFAULT_ESCALATION = { learningRateFactor: 2, epochsFactor: 1, extraEpochs: 1 };

/**
 * Applies the audit's escalation (relative factors and maybe another method) to the settings of
 * the attempt that failed the gate. Epochs stay a positive integer (contracts/unlearn.input).
 */
export function escalate(previous: AttemptSettings, escalation: AuditActivityOutput['escalation']): AttemptSettings {
  const hp = previous.hyperParameters;
  if (!escalation) {
    return {
      method: previous.method,
      hyperParameters: { ...hp, learningRate: hp.learningRate * DEFAULT_ESCALATION.learningRateFactor, epochs: hp.epochs + DEFAULT_ESCALATION.extraEpochs },
    };
  }
  return {
    method: escalation.method ?? previous.method,
    hyperParameters: {
      ...hp,
      learningRate: hp.learningRate * escalation.learningRateFactor,
      epochs: Math.max(1, Math.round(hp.epochs * escalation.epochsFactor)),
    },
  };
}
