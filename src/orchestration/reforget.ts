// The re-forget helpers for the modules that import them from here (planReforget, the PULSE report);
// the pass rules themselves live in ./domain/passes, shared by the lineage workflow and the PULSE harness.
import { DEFAULT_GATE_POLICY } from '../audits/domain/gate-policy';

export { accuracyOfTally, holdsOf, peopleAbove, type ModalityAccuracy } from './domain/passes';

/** The default gate policy's per-person goal line (PULSE's: every forgotten person at or below 0.40). */
export const PER_PERSON_GOAL = DEFAULT_GATE_POLICY.goal.maxForgottenAccuracy;
/** The default gate policy's number of goal passes. */
export const GOAL_PASSES = DEFAULT_GATE_POLICY.goal.passes;
