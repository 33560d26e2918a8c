// The promotion gate policy of a lineage: a JSON document, validated here, versioned by the
// control plane (every change is an event and bumps `version`).
import { AuditError } from './audit-error';
import { CHANCE_LEVEL } from './eval-item';

export interface GatePolicy {
  /** Revision of this lineage's policy; reports name the revision in force. */
  version: number;
  forget: {
    /** Forget accuracy must stay <= chance + this, in BOTH modalities, for this request and cumulatively. */
    maxAccuracyAboveChance: number;
    /**
     * ...unless the number right is not significantly above chance: a forget check also passes when
     * the one-sided binomial p-value P(X >= correct | n questions, p = chance) is >= this. With 5
     * questions a random guesser gets 2 or more right 37% of the time; this keeps such a model from
     * failing the margin rule by luck. In (0, 0.5].
     */
    significance: number;
    /**
     * Forget quality (TOFU): the KS p-value of the forgotten people's pRight against never-seen people's
     * must be >= this, per modality, for this request and cumulatively. 0 turns the rule off.
     */
    minForgetQuality: number;
    /**
     * A loss attack's AUC (forgotten vs never-seen questions) must be compatible with 0.5 +- this: its
     * (1 - significance) confidence interval must reach into the band, so five questions are not failed
     * by chance. Too high leaks that the person is still known, too low that they were deleted. 0.5 turns it off.
     */
    maxMiaAucDistance: number;
    /** Refuse accuracy significantly BELOW chance (binomial lower tail < significance): answering reliably wrong reveals the deletion. */
    refuseBelowChance: boolean;
    /**
     * Ask the forgotten people's fact questions without options (free-form.ts) and refuse a candidate whose answers
     * state the true value significantly more often than its answers about never-seen people do (FREE_FORM).
     */
    freeFormProbe: boolean;
    /**
     * Train a new version even when version 0 shows no more knowledge of a request's (inline) person than
     * of never-seen people (forgetting-rules.ts noKnowledgeFound). false: such a request completes without
     * unlearning, with version 0's numbers as its evidence.
     */
    requireUnlearning: boolean;
  };
  retain: {
    /** Retain accuracy must stay >= this fraction of version 0's, per modality. */
    minFractionOfBaseline: number;
  };
  general: {
    /** General accuracy must stay >= this fraction of version 0's. */
    minFractionOfBaseline: number;
    /** Score the general set with MMBench's CircularEval (4 rotations per question). */
    circularEval: boolean;
  };
  /**
   * The per-person goal (PULSE's: every forgotten person at or below this accuracy in both modalities).
   * It decides which candidate of a step is gated: a re-forget pass that leaves more forgotten people
   * above the line than the candidate it continues is not kept, and after the re-forget passes up to
   * `passes` goal passes train on the people still above it, each kept only when it passes the gate
   * and leaves fewer above the line (see src/orchestration/domain/passes.ts).
   */
  goal: {
    maxForgottenAccuracy: number;
    /** Goal passes after a step's re-forget passes (only on lineages that re-forget); 0 turns them off. */
    passes: number;
  };
}

export const DEFAULT_GATE_POLICY: GatePolicy = Object.freeze({
  version: 1,
  forget: Object.freeze({ maxAccuracyAboveChance: 0.1, significance: 0.05, minForgetQuality: 0.05, maxMiaAucDistance: 0.1, refuseBelowChance: true, freeFormProbe: true, requireUnlearning: true }),
  retain: Object.freeze({ minFractionOfBaseline: 0.85 }),
  general: Object.freeze({ minFractionOfBaseline: 0.9, circularEval: false }),
  goal: Object.freeze({ maxForgottenAccuracy: 0.4, passes: 3 }),
}) as GatePolicy;

/** Goal passes are whole trainings of the candidate: a handful at most. */
export const MAX_GOAL_PASSES = 10;

type FieldCheck = (value: unknown, field: string) => void;

const fraction: FieldCheck = (value, field) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new AuditError('INVALID_GATE_POLICY', `must be a number between 0 and 1, got ${JSON.stringify(value)}`, field);
  }
};

const aboveChance: FieldCheck = (value, field) => {
  fraction(value, field);
  if (CHANCE_LEVEL + (value as number) > 1) {
    throw new AuditError('INVALID_GATE_POLICY', `chance (${CHANCE_LEVEL}) + ${value} exceeds 1`, field);
  }
};

const significanceLevel: FieldCheck = (value, field) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 0.5) {
    throw new AuditError('INVALID_GATE_POLICY', `must be a number in (0, 0.5], got ${JSON.stringify(value)}`, field);
  }
};

const aucDistance: FieldCheck = (value, field) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 0.5) {
    throw new AuditError('INVALID_GATE_POLICY', `must be a number between 0 and 0.5, got ${JSON.stringify(value)}`, field);
  }
};

const boolean: FieldCheck = (value, field) => {
  if (typeof value !== 'boolean') {
    throw new AuditError('INVALID_GATE_POLICY', `must be true or false, got ${JSON.stringify(value)}`, field);
  }
};

const passCount: FieldCheck = (value, field) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_GOAL_PASSES) {
    throw new AuditError('INVALID_GATE_POLICY', `must be an integer in 0..${MAX_GOAL_PASSES}, got ${JSON.stringify(value)}`, field);
  }
};

const revision: FieldCheck = (value, field) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new AuditError('INVALID_GATE_POLICY', `must be an integer >= 1, got ${JSON.stringify(value)}`, field);
  }
};

const SECTIONS: Record<Exclude<keyof GatePolicy, 'version'>, Record<string, FieldCheck>> = {
  forget: {
    maxAccuracyAboveChance: aboveChance,
    significance: significanceLevel,
    minForgetQuality: fraction,
    maxMiaAucDistance: aucDistance,
    refuseBelowChance: boolean,
    freeFormProbe: boolean,
    requireUnlearning: boolean,
  },
  retain: { minFractionOfBaseline: fraction },
  general: { minFractionOfBaseline: fraction, circularEval: boolean },
  goal: { maxForgottenAccuracy: fraction, passes: passCount },
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a gate policy document (parsed JSON or its text). Fields left out take the defaults;
 * unknown fields and wrong values are errors naming the field, e.g. `gatePolicy.retain.minFractionOfBaseline`.
 * Keys are looked up as own properties only: `__proto__`, `constructor` or `toString` are unknown fields, not inherited ones.
 */
export function parseGatePolicy(input: unknown, root = 'gatePolicy'): GatePolicy {
  let doc = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (e) {
      throw new AuditError('INVALID_GATE_POLICY', `is not valid JSON (${(e as Error).message})`, root);
    }
  }
  if (!isObject(doc)) throw new AuditError('INVALID_GATE_POLICY', 'must be a JSON object', root);
  for (const key of Object.keys(doc)) {
    if (key !== 'version' && !Object.hasOwn(SECTIONS, key)) throw new AuditError('INVALID_GATE_POLICY', 'unknown field', `${root}.${key}`);
  }
  const version = Object.hasOwn(doc, 'version') ? doc.version : DEFAULT_GATE_POLICY.version;
  revision(version, `${root}.version`);
  const policy: Record<string, unknown> = { version };
  for (const [section, checks] of Object.entries(SECTIONS)) {
    const given = Object.hasOwn(doc, section) ? doc[section] : {};
    const field = `${root}.${section}`;
    if (!isObject(given)) throw new AuditError('INVALID_GATE_POLICY', 'must be a JSON object', field);
    for (const key of Object.keys(given)) {
      if (!Object.hasOwn(checks, key)) throw new AuditError('INVALID_GATE_POLICY', 'unknown field', `${field}.${key}`);
    }
    const defaults = DEFAULT_GATE_POLICY[section as keyof typeof SECTIONS] as unknown as Record<string, unknown>;
    const merged: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(checks)) {
      merged[key] = Object.hasOwn(given, key) ? given[key] : defaults[key];
      check(merged[key], `${field}.${key}`);
    }
    policy[section] = merged;
  }
  return policy as unknown as GatePolicy;
}
