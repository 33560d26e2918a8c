// How a FAIL's escalation changes the next attempt. Pure and deterministic (runs in the workflow).
import type { Escalation } from '../src/audits/domain/decision';
import type { HyperParameters, UnlearnMethod } from '../src/common/gpu-contracts';

export interface AttemptSettings {
  method: UnlearnMethod;
  hyperParameters: HyperParameters;
}

/**
 * Applies the gate's escalation (relative factors and maybe another method) to the settings of
 * the attempt that failed. Epochs stay a positive integer (contracts/unlearn.input).
 */
export function escalate(previous: AttemptSettings, escalation: Escalation): AttemptSettings {
  const hp = previous.hyperParameters;
  return {
    method: escalation.method ?? previous.method,
    hyperParameters: {
      ...hp,
      learningRate: hp.learningRate * escalation.learningRateFactor,
      epochs: Math.max(1, Math.round(hp.epochs * escalation.epochsFactor)),
    },
  };
}
