// The promotion gate: metrics + policy -> PASS | FAIL (with an escalation) | REVIEW, with reasons.
// Fails closed: a missing or non-finite number, or an audit that did not complete, is never PASS.
// The gate knows nothing of attempts: the lineage workflow owns the retry budget and decides what
// a FAIL leads to (another attempt with the escalation, or the step failing).
import { binomialUpperTail } from './binomial';
import { MODALITIES, OTHER_PROMPT_FORMATS } from './eval-item';
import { forgettingChecks, ForgettingRule } from './forgetting-rules';
import { GatePolicy } from './gate-policy';
import { AuditMetrics, MetricValue, ModalityMetrics } from './metrics';

/** PASS: promote it. FAIL: a rule is broken; retrying with the escalation may help. REVIEW: a person decides. */
export type GateDecision = 'PASS' | 'FAIL' | 'REVIEW';
export const GATE_DECISIONS: readonly GateDecision[] = ['PASS', 'FAIL', 'REVIEW'];
export type GateRule = 'FORGET' | 'CUMULATIVE_FORGET' | 'RETAIN' | 'GENERAL' | ForgettingRule;

export interface GateCheck {
  rule: GateRule;
  /** Path of the number in AuditMetrics, e.g. "retain.text.ofBaseline". */
  metric: string;
  value: number | null;
  /** 'within': the value's confidence interval must reach into [0.5 - threshold, 0.5 + threshold] (forgetting-rules.ts). */
  comparison: '<=' | '>=' | 'within';
  threshold: number;
  /** false also when the value is missing. */
  passed: boolean;
  /**
   * Forget checks only (absent on audits recorded before the significance rule): the questions
   * answered right and asked, the chance level, the one-sided binomial p-value
   * P(X >= correct | n, chance) (null when the counts are not usable) and the policy's significance.
   * A forget check passes on value <= threshold OR pValue >= significance.
   */
  correct?: number;
  n?: number;
  chance?: number;
  pValue?: number | null;
  significance?: number;
  /** Forget checks: which rule let it pass ('margin': value <= threshold; 'binomial': not significantly above chance); null when it failed. */
  passedBy?: 'margin' | 'binomial' | null;
  /** Forgetting checks (forgetting-rules.ts): never-seen questions compared with, the AUC's confidence interval, and the finding in words. */
  referenceN?: number;
  interval?: [number, number];
  detail?: string;
}

/**
 * What a retry should change. The audit does not know the attempt's hyper-parameters, so it
 * suggests a method and relative factors that the orchestration applies to the current settings.
 */
export interface Escalation {
  /** STRENGTHEN_FORGETTING: the model still knows the subjects. PROTECT_UTILITY: it lost too much else. */
  direction: 'STRENGTHEN_FORGETTING' | 'PROTECT_UTILITY';
  /** A retain-regularised method to switch to when utility collapsed; absent: keep the method. */
  method?: 'ga_klr' | 'npo';
  learningRateFactor: number;
  epochsFactor: number;
  suggestion: string;
}

interface GateVerdict {
  reasons: string[];
  checks: GateCheck[];
}
/** A FAIL always carries the escalation a retry should apply; PASS and REVIEW never do. */
export type GateOutcome =
  | (GateVerdict & { decision: 'PASS' | 'REVIEW'; escalation: null })
  | (GateVerdict & { decision: 'FAIL'; escalation: Escalation });

export interface GateInput {
  /** null when the audit failed before producing numbers. */
  metrics: AuditMetrics | null;
  /** null when the lineage's policy document did not validate: nothing can pass. */
  policy: GatePolicy | null;
  /** Why the audit failed, when it did. */
  auditError?: string;
}

// Rounding noise must not flip a gate on an exact boundary (7/20 vs 0.25 + 0.10).
export const EPSILON = 1e-9;

/** Above / below a limit beyond rounding noise; the gate, the re-forget picks and the PULSE goal check share them. */
export const isAbove = (value: number, limit: number) => value > limit + EPSILON;
export const isBelow = (value: number, limit: number) => value < limit - EPSILON;

function check(rule: GateRule, metric: string, value: number | null, comparison: '<=' | '>=', threshold: number): GateCheck {
  const known = value !== null && Number.isFinite(value);
  const passed = known && (comparison === '<=' ? !isAbove(value, threshold) : !isBelow(value, threshold));
  return { rule, metric, value: known ? value : null, comparison, threshold, passed };
}

/** P(X >= correct) for a guesser at chance; null when the counts cannot be a binomial draw. */
function forgetPValue(correct: number, n: number, chance: number): number | null {
  const usable =
    Number.isInteger(n) && n > 0 && Number.isInteger(correct) && correct >= 0 && correct <= n &&
    Number.isFinite(chance) && chance >= 0 && chance <= 1;
  return usable ? binomialUpperTail(correct, n, chance) : null;
}

/**
 * A forget check: passes when the accuracy is within the margin above chance, or when the number
 * right is not significantly above chance (small samples: 2 of 5 right is a lucky guesser 37% of
 * the time). A missing accuracy still fails, whatever the counts say.
 */
function forgetCheck(rule: 'FORGET' | 'CUMULATIVE_FORGET', metric: string, v: MetricValue, chance: number, policy: GatePolicy): GateCheck {
  const margin = check(rule, metric, v.accuracy, '<=', chance + policy.forget.maxAccuracyAboveChance);
  const significance = policy.forget.significance;
  const pValue = forgetPValue(v.correct, v.total, chance);
  const notSignificant = pValue !== null && pValue >= significance - EPSILON;
  const passed = margin.value !== null && (margin.passed || notSignificant);
  return {
    ...margin,
    passed,
    correct: v.correct,
    n: v.total,
    chance,
    pValue,
    significance,
    passedBy: !passed ? null : margin.passed ? 'margin' : 'binomial',
  };
}

/** What a broken rule asks a retry to do. */
type RuleDirection = Escalation['direction'];

/**
 * A kind of gate rule: the checks it makes of an audit under a policy, and which way a retry should
 * go when one fails. A new rule kind is one entry here (and its name in GateRule).
 */
interface RuleKind {
  rules: readonly GateRule[];
  checks(metrics: AuditMetrics, policy: GatePolicy): GateCheck[];
  whenFailed(failed: GateCheck): RuleDirection;
}

const ofBaseline = (v: MetricValue) => v.ofBaseline;

const NO_QUESTIONS: MetricValue = { accuracy: null, correct: 0, total: 0, ofBaseline: null, deltaFromParent: null };

/**
 * A forget set's accuracy in the default prompt format and, when the audit asked them (every audit since it does), in
 * each other format: the gate takes the worst, as every one must pass. A format the audit should have asked and did
 * not is a missing number.
 */
function forgetChecksInEveryFormat(rule: 'FORGET' | 'CUMULATIVE_FORGET', set: 'forget' | 'cumulativeForget', m: AuditMetrics, policy: GatePolicy): GateCheck[] {
  const inFormat = (prefix: string, values: ModalityMetrics | undefined) =>
    MODALITIES.map((mod) => forgetCheck(rule, `${prefix}${set}.${mod}.accuracy`, values?.[mod] ?? NO_QUESTIONS, m.chanceLevel, policy));
  return [
    ...inFormat('', m[set]),
    ...(m.otherFormats ? OTHER_PROMPT_FORMATS.flatMap((f) => inFormat(`otherFormats.${f}.`, m.otherFormats![f]?.[set])) : []),
  ];
}

export const GATE_RULES: readonly RuleKind[] = [
  {
    rules: ['FORGET'],
    checks: (m, policy) => forgetChecksInEveryFormat('FORGET', 'forget', m, policy),
    whenFailed: () => 'STRENGTHEN_FORGETTING',
  },
  {
    rules: ['CUMULATIVE_FORGET'],
    checks: (m, policy) => forgetChecksInEveryFormat('CUMULATIVE_FORGET', 'cumulativeForget', m, policy),
    whenFailed: () => 'STRENGTHEN_FORGETTING',
  },
  {
    rules: ['RETAIN'],
    checks: (m, policy) => MODALITIES.map((mod) => check('RETAIN', `retain.${mod}.ofBaseline`, ofBaseline(m.retain[mod]), '>=', policy.retain.minFractionOfBaseline)),
    whenFailed: () => 'PROTECT_UTILITY',
  },
  {
    rules: ['GENERAL'],
    checks: (m, policy) => [check('GENERAL', 'general.overall.ofBaseline', ofBaseline(m.general.overall), '>=', policy.general.minFractionOfBaseline)],
    whenFailed: () => 'PROTECT_UTILITY',
  },
  {
    rules: ['FORGET_QUALITY', 'MIA_AUC', 'BELOW_CHANCE', 'FREE_FORM'],
    checks: forgettingChecks,
    // Answering the forgotten worse than people never seen is over-unlearning: training harder would deepen it.
    whenFailed: (c) => (c.rule === 'BELOW_CHANCE' || (c.rule === 'MIA_AUC' && c.value !== null && c.value < 0.5) ? 'PROTECT_UTILITY' : 'STRENGTHEN_FORGETTING'),
  },
];

/** Every check the policy asks for, in a fixed order. */
export function gateChecks(metrics: AuditMetrics, policy: GatePolicy): GateCheck[] {
  return GATE_RULES.flatMap((kind) => kind.checks(metrics, policy));
}

function describe(c: GateCheck): string {
  if (c.detail !== undefined) return c.detail;
  if (c.value === null) return `${c.metric} is missing (no questions, no version-0 number, or not finite): cannot pass ${c.comparison} ${c.threshold.toFixed(3)}`;
  const broken = c.comparison === '<=' ? '>' : '<';
  const significant =
    c.pValue !== undefined && c.significance !== undefined
      ? c.pValue === null
        ? ` and no usable counts for the significance rule (${c.correct}/${c.n} right)`
        : ` and ${c.correct}/${c.n} right is significantly above chance ${c.chance} (binomial p = ${c.pValue.toPrecision(3)} < ${c.significance})`
      : '';
  return `${c.metric} = ${c.value.toFixed(3)} ${broken} ${c.threshold.toFixed(3)}${significant} (${c.rule})`;
}

const ESCALATIONS: Record<RuleDirection, Escalation> = {
  PROTECT_UTILITY: {
    direction: 'PROTECT_UTILITY',
    method: 'ga_klr',
    learningRateFactor: 0.5,
    epochsFactor: 1,
    suggestion:
      'retain or general accuracy fell below the gate: retry with a retain-regularised method (ga_klr or npo) at half the learning rate, or switch the lineage strategy to "cumulative"',
  },
  STRENGTHEN_FORGETTING: {
    direction: 'STRENGTHEN_FORGETTING',
    learningRateFactor: 1.5,
    epochsFactor: 2,
    suggestion: 'the forget set is still answered above the gate: retry with twice the epochs and 1.5x the learning rate',
  },
};

/** Lost utility outweighs remembered subjects: training harder would only lose more. */
function escalationFor(failed: GateCheck[]): Escalation {
  const utilityLost = failed.some((c) => GATE_RULES.find((kind) => kind.rules.includes(c.rule))?.whenFailed(c) === 'PROTECT_UTILITY');
  return { ...ESCALATIONS[utilityLost ? 'PROTECT_UTILITY' : 'STRENGTHEN_FORGETTING'] };
}

export function decideGate(input: GateInput): GateOutcome {
  if (input.metrics === null || input.auditError !== undefined) {
    return {
      decision: 'REVIEW',
      reasons: [`audit did not complete: ${input.auditError ?? 'no metrics'}`],
      checks: [],
      escalation: null,
    };
  }
  if (input.policy === null) {
    return { decision: 'REVIEW', reasons: ['no valid gate policy in force'], checks: [], escalation: null };
  }
  const checks = gateChecks(input.metrics, input.policy);
  const missing = checks.filter((c) => c.value === null);
  if (missing.length > 0) {
    // Retrying cannot produce a number the eval set or version 0 does not have: a person decides.
    return { decision: 'REVIEW', reasons: missing.map(describe), checks, escalation: null };
  }
  const failed = checks.filter((c) => !c.passed);
  if (failed.length === 0) {
    return {
      decision: 'PASS',
      reasons: [`all ${checks.length} gate checks passed (policy version ${input.policy.version})`],
      checks,
      escalation: null,
    };
  }
  return { decision: 'FAIL', reasons: failed.map(describe), checks, escalation: escalationFor(failed) };
}
