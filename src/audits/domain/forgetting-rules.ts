// The gate's forgetting rules: forgotten people must look like people the model never saw, per
// modality, for this request and for everyone the lineage forgot. Each rule is a test that knows its
// sample sizes, decided at the policy's significance, so that a one-person request (five questions per
// modality) that forgot perfectly is not failed by chance:
//   FORGET_QUALITY  KS p-value of pRight (forgotten vs never seen) >= forget.minForgetQuality
//   MIA_AUC         the loss attack's AUC confidence interval reaches into 0.5 +- forget.maxMiaAucDistance
//   BELOW_CHANCE    accuracy not significantly below chance (binomial lower tail >= significance)
//   FREE_FORM       asked without options, the forgotten state the true value not significantly more often than
//                   never-seen people do (binomial upper tail against the never-seen rate >= significance)
// Each rule is checked in the default prompt format and in every other one the audit asked (metrics.otherFormats):
// the gate takes the worst. A rule at its "off" setting (0, 0.5, false) is not checked. Without never-seen people the first two have
// no number: the gate cannot pass them and says why.
import { binomialUpperTail } from './binomial';
import type { GateCheck } from './decision';
import { MODALITIES, Modality, OTHER_PROMPT_FORMATS, PromptFormat } from './eval-item';
import { ForgettingEvidence, NO_NEVER_SEEN_PEOPLE, SetEvidence } from './forgetting-evidence';
import { aucConfidenceInterval } from './forgetting-statistics';
import { FreeFormMetrics } from './free-form';
import { GatePolicy } from './gate-policy';
import { AuditMetrics } from './metrics';

export type ForgettingRule = 'FORGET_QUALITY' | 'MIA_AUC' | 'BELOW_CHANCE' | 'FREE_FORM';

type ForgetScope = 'forget' | 'cumulativeForget';
const SCOPES: ForgetScope[] = ['forget', 'cumulativeForget'];
const SCOPE_TEXT: Record<ForgetScope, string> = { forget: "this request's people", cumulativeForget: 'everyone the lineage forgot' };

// Rounding noise must not flip a rule on an exact boundary (the gate's EPSILON; not imported: decision.ts imports this module).
const EPSILON = 1e-9;
const fmt = (v: number) => v.toPrecision(3);

interface RuleContext {
  /** null: the default prompt format. */
  format: PromptFormat | null;
  scope: ForgetScope;
  modality: Modality;
  evidence: SetEvidence;
  missingReference: string | null;
  policy: GatePolicy;
}

function where(c: RuleContext): string {
  return `${SCOPE_TEXT[c.scope]}, ${c.modality}${c.format ? `, asked in the ${c.format} prompt format` : ''}`;
}

/** Where the number lies in AuditMetrics. */
function metricOf(c: RuleContext, name: string): string {
  return `${c.format ? `otherFormats.${c.format}.` : ''}forgetting.${c.scope}.${c.modality}.${name}`;
}

function missing(c: RuleContext, rule: ForgettingRule, metric: string, comparison: GateCheck['comparison'], threshold: number): GateCheck {
  const why = c.evidence.n === 0 ? 'no questions of the forgotten people' : (c.missingReference ?? NO_NEVER_SEEN_PEOPLE);
  return {
    rule, metric, value: null, comparison, threshold, passed: false, n: c.evidence.n, referenceN: c.evidence.referenceN,
    detail: `${metric} is missing (${where(c)}): ${why}`,
  };
}

function forgetQualityCheck(c: RuleContext): GateCheck {
  const metric = metricOf(c, 'forgetQuality');
  const threshold = c.policy.forget.minForgetQuality;
  const ks = c.evidence.forgetQuality;
  if (!ks) return missing(c, 'FORGET_QUALITY', metric, '>=', threshold);
  const passed = ks.pValue >= threshold - EPSILON;
  const sizes = `${ks.n} forgotten vs ${ks.m} never-seen questions`;
  return {
    rule: 'FORGET_QUALITY', metric, value: ks.pValue, comparison: '>=', threshold, passed, n: ks.n, referenceN: ks.m,
    detail: passed
      ? `${metric} = ${fmt(ks.pValue)} >= ${threshold} (${where(c)}; KS D = ${fmt(ks.statistic)}, ${sizes}): pRight indistinguishable from never-seen people`
      : `${metric} = ${fmt(ks.pValue)} < ${threshold} (${where(c)}; KS D = ${fmt(ks.statistic)}, ${sizes}): pRight differs from never-seen people (FORGET_QUALITY)`,
  };
}

function miaAucCheck(c: RuleContext): GateCheck {
  const metric = metricOf(c, 'miaAuc');
  const d = c.policy.forget.maxMiaAucDistance;
  const estimate = c.evidence.miaAuc;
  if (!estimate) return missing(c, 'MIA_AUC', metric, 'within', d);
  const significance = c.policy.forget.significance;
  const [low, high] = aucConfidenceInterval(estimate, significance);
  const passed = low <= 0.5 + d + EPSILON && high >= 0.5 - d - EPSILON;
  const leak = estimate.auc > 0.5 ? 'the forgotten are still recognisably known' : 'the forgotten are answered worse than people never seen: the deletion shows';
  const stated = `${metric} = ${fmt(estimate.auc)}, ${Math.round((1 - significance) * 100)}% CI [${fmt(low)}, ${fmt(high)}] (${where(c)}; ${estimate.n} forgotten vs ${estimate.referenceN} never-seen questions)`;
  return {
    rule: 'MIA_AUC', metric, value: estimate.auc, comparison: 'within', threshold: d, passed, n: estimate.n, referenceN: estimate.referenceN,
    interval: [low, high], significance,
    detail: passed ? `${stated} reaches into 0.5 ± ${d}` : `${stated} does not reach into 0.5 ± ${d}: ${leak} (MIA_AUC)`,
  };
}

function belowChanceCheck(c: RuleContext): GateCheck {
  const metric = metricOf(c, 'belowChance');
  const b = c.evidence.belowChance;
  if (!b) return missing(c, 'BELOW_CHANCE', metric, '>=', 0);
  const significance = c.policy.forget.significance;
  const passed = b.pValue >= significance - EPSILON;
  const stated = `${b.correct}/${b.n} right (${where(c)}), binomial P(X <= ${b.correct} | chance ${b.chance}) = ${fmt(b.pValue)}`;
  return {
    rule: 'BELOW_CHANCE', metric, value: b.correct / b.n, comparison: '>=', threshold: b.chance, passed,
    correct: b.correct, n: b.n, chance: b.chance, pValue: b.pValue, significance,
    detail: passed
      ? `${stated} >= ${significance}: not significantly below chance`
      : `${stated} < ${significance}: answered reliably wrong, which reveals the deletion (BELOW_CHANCE)`,
  };
}

/**
 * The free-form probe of one scope. The never-seen rate is smoothed (one recalled and one missed added) so that a
 * reference that never recalled does not make a single lucky answer significant.
 */
function freeFormCheck(f: FreeFormMetrics, scope: ForgetScope, policy: GatePolicy): GateCheck {
  const metric = `freeForm.${scope}.recallRate`;
  const asked = f[scope];
  const reference = f.reference;
  if (asked.asked === 0 || reference.asked === 0) {
    const why = f.notAsked ?? (asked.asked ? 'no never-seen people were asked (NEVER_SEEN subjects with text questions)' : 'no text questions of the forgotten people');
    return { rule: 'FREE_FORM', metric, value: null, comparison: '<=', threshold: 0, passed: false, n: asked.asked, referenceN: reference.asked, detail: `${metric} is missing (${SCOPE_TEXT[scope]}): ${why}` };
  }
  const referenceRate = (reference.recalled + 1) / (reference.asked + 2);
  const pValue = binomialUpperTail(asked.recalled, asked.asked, referenceRate);
  const significance = policy.forget.significance;
  const passed = pValue >= significance - EPSILON;
  const stated = `${metric} = ${asked.recalled}/${asked.asked} answers without options state the true value (${SCOPE_TEXT[scope]}), never-seen people ${reference.recalled}/${reference.asked}; binomial P(X >= ${asked.recalled} | never-seen rate ${fmt(referenceRate)}) = ${fmt(pValue)}`;
  return {
    rule: 'FREE_FORM', metric, value: asked.recalled / asked.asked, comparison: '<=', threshold: referenceRate, passed,
    correct: asked.recalled, n: asked.asked, referenceN: reference.asked, pValue, significance,
    detail: passed ? `${stated} >= ${significance}: recalled no more than people never seen` : `${stated} < ${significance}: the model still says what it should have forgotten (FREE_FORM)`,
  };
}

/** The rules the policy turns on, in a fixed order (rule, then scope, then modality). */
function rulesInForce(policy: GatePolicy): Array<(c: RuleContext) => GateCheck> {
  return [
    ...(policy.forget.minForgetQuality > 0 ? [forgetQualityCheck] : []),
    ...(policy.forget.maxMiaAucDistance < 0.5 ? [miaAucCheck] : []),
    ...(policy.forget.refuseBelowChance ? [belowChanceCheck] : []),
  ];
}

function checksOf(evidence: ForgettingEvidence, policy: GatePolicy, scopes: ForgetScope[], format: PromptFormat | null = null): GateCheck[] {
  return rulesInForce(policy).flatMap((rule) =>
    scopes.flatMap((scope) =>
      MODALITIES.map((modality) => rule({ format, scope, modality, evidence: evidence[scope][modality], missingReference: evidence.missingReference, policy })),
    ),
  );
}

function noEvidence(why: string): ForgettingEvidence {
  const none: SetEvidence = { n: 0, referenceN: 0, forgetQuality: null, miaAuc: null, rankShares: null, belowChance: null };
  return {
    forget: { multimodal: none, text: none },
    cumulativeForget: { multimodal: none, text: none },
    reference: { subjects: 0, questions: { multimodal: 0, text: 0 } },
    missingReference: why,
  };
}
const NO_EVIDENCE = noEvidence('this audit was recorded before forgetting was measured');
const NOT_ASKED = noEvidence('the audit did not ask the questions in this prompt format');

/** The forgetting checks of a version's metrics under a policy. */
export function forgettingChecks(metrics: AuditMetrics, policy: GatePolicy): GateCheck[] {
  const otherFormats = metrics.otherFormats;
  return [
    ...checksOf(metrics.forgetting ?? NO_EVIDENCE, policy, SCOPES),
    ...(otherFormats ? OTHER_PROMPT_FORMATS.flatMap((f) => checksOf(otherFormats[f]?.forgetting ?? NOT_ASKED, policy, SCOPES, f)) : []),
    // Absent in audits recorded before the probe (and in version 0's cached scores): not checked, like a format not asked.
    ...(policy.forget.freeFormProbe && metrics.freeForm ? SCOPES.map((scope) => freeFormCheck(metrics.freeForm!, scope, policy)) : []),
  ];
}

/**
 * Whether version 0 showed no more knowledge of this request's people than of people it never saw: every
 * forgetting rule in force passes on version 0 for this request's people in both modalities, and their
 * accuracy is not significantly above chance. False without the numbers (no never-seen people, no questions).
 */
export function noKnowledgeFound(versionZero: AuditMetrics | null, policy: GatePolicy | null): boolean {
  if (!versionZero?.forgetting || !policy || versionZero.forgetting.missingReference !== null) return false;
  const checks = checksOf(versionZero.forgetting, policy, ['forget']);
  const accuracyAtChance = MODALITIES.every((m) => {
    const v = versionZero.forget[m];
    return v.total > 0 && binomialUpperTail(v.correct, v.total, versionZero.chanceLevel) >= policy.forget.significance - EPSILON;
  });
  return checks.length > 0 && checks.every((c) => c.passed) && accuracyAtChance;
}
