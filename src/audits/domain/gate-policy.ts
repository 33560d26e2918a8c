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
}

export const DEFAULT_GATE_POLICY: GatePolicy = Object.freeze({
  version: 1,
  forget: Object.freeze({ maxAccuracyAboveChance: 0.1, significance: 0.05, minForgetQuality: 0.05, maxMiaAucDistance: 0.1, refuseBelowChance: true }),
  retain: Object.freeze({ minFractionOfBaseline: 0.85 }),
  general: Object.freeze({ minFractionOfBaseline: 0.9, circularEval: false }),
}) as GatePolicy;

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
  },
  retain: { minFractionOfBaseline: fraction },
  general: { minFractionOfBaseline: fraction, circularEval: boolean },
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a gate policy document (parsed JSON or its text). Fields left out take the defaults;
 * unknown fields and wrong values are errors naming the field, e.g. `gatePolicy.retain.minFractionOfBaseline`.
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
    if (key !== 'version' && !(key in SECTIONS)) throw new AuditError('INVALID_GATE_POLICY', 'unknown field', `${root}.${key}`);
  }
  const version = 'version' in doc ? doc.version : DEFAULT_GATE_POLICY.version;
  revision(version, `${root}.version`);
  const policy: Record<string, unknown> = { version };
  for (const [section, checks] of Object.entries(SECTIONS)) {
    const given = section in doc ? doc[section] : {};
    const field = `${root}.${section}`;
    if (!isObject(given)) throw new AuditError('INVALID_GATE_POLICY', 'must be a JSON object', field);
    for (const key of Object.keys(given)) {
      if (!(key in checks)) throw new AuditError('INVALID_GATE_POLICY', 'unknown field', `${field}.${key}`);
    }
    const defaults = DEFAULT_GATE_POLICY[section as keyof typeof SECTIONS] as unknown as Record<string, unknown>;
    const merged: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(checks)) {
      merged[key] = key in given ? given[key] : defaults[key];
      check(merged[key], `${field}.${key}`);
    }
    policy[section] = merged;
  }
  return policy as unknown as GatePolicy;
}
