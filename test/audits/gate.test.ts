import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuditError } from '../../src/audits/domain/audit-error';
import { decideGate, GateInput } from '../../src/audits/domain/decision';
import { DEFAULT_GATE_POLICY, parseGatePolicy } from '../../src/audits/domain/gate-policy';
import { AuditMetrics, MetricValue } from '../../src/audits/domain/metrics';

function value(accuracy: number | null, ofBaseline: number | null = null): MetricValue {
  return { accuracy, correct: 0, total: accuracy === null ? 0 : 10, ofBaseline, deltaFromParent: null };
}

/** A candidate that passes every default gate; each test breaks one number. */
function passing(): AuditMetrics {
  return {
    scope: { forgetSubjectIds: ['s1'], cumulativeForgetSubjectIds: ['s1'], retainSubjectIds: null, circularEval: false },
    forget: { multimodal: value(0.3, 0.6), text: value(0.35, 0.55) },
    cumulativeForget: { multimodal: value(0.2, 0.7), text: value(0.3, 0.6) },
    retain: { multimodal: value(0.8, 0.9), text: value(0.8, 0.85) },
    general: { overall: value(0.7, 0.95), byCategory: {} },
    perSubject: {},
    chanceLevel: 0.25,
    scoringMethod: 'test',
    scoredQuestions: 40,
  };
}

function decide(change: (m: AuditMetrics) => void, extra: Partial<GateInput> = {}) {
  const metrics = passing();
  change(metrics);
  return decideGate({ metrics, policy: DEFAULT_GATE_POLICY, attempt: 1, maxAttempts: 3, ...extra });
}

describe('gate decisions under the default policy', () => {
  it('promotes when every rule passes, including exactly on the boundaries', () => {
    const out = decide(() => {});
    assert.equal(out.decision, 'PROMOTE');
    assert.equal(out.checks.length, 7);
    assert.ok(out.checks.every((c) => c.passed));
    assert.equal(out.escalation, null);
    // forget.text = 0.35 = chance + 0.10 and retain.text = 0.85 of version 0 are on the boundary.
    assert.equal(out.checks.find((c) => c.metric === 'forget.text.accuracy')!.threshold, 0.35);
  });

  const rules: Array<[string, (m: AuditMetrics) => void, string, 'STRENGTHEN_FORGETTING' | 'PROTECT_UTILITY']> = [
    ['forget, multimodal only', (m) => (m.forget.multimodal = value(0.36)), 'forget.multimodal.accuracy', 'STRENGTHEN_FORGETTING'],
    ['forget, text only (the PULSE modality gap)', (m) => (m.forget.text = value(0.5)), 'forget.text.accuracy', 'STRENGTHEN_FORGETTING'],
    ['cumulative forget: an earlier subject came back', (m) => (m.cumulativeForget.multimodal = value(0.6)), 'cumulativeForget.multimodal.accuracy', 'STRENGTHEN_FORGETTING'],
    ['cumulative forget, text', (m) => (m.cumulativeForget.text = value(0.4)), 'cumulativeForget.text.accuracy', 'STRENGTHEN_FORGETTING'],
    ['retain, multimodal below 85% of version 0', (m) => (m.retain.multimodal = value(0.7, 0.84)), 'retain.multimodal.ofBaseline', 'PROTECT_UTILITY'],
    ['retain, text', (m) => (m.retain.text = value(0.1, 0.2)), 'retain.text.ofBaseline', 'PROTECT_UTILITY'],
    ['general below 90% of version 0', (m) => (m.general.overall = value(0.6, 0.89)), 'general.overall.ofBaseline', 'PROTECT_UTILITY'],
  ];
  for (const [name, change, metric, direction] of rules) {
    it(`retries when ${name} fails, and names the number`, () => {
      const out = decide(change);
      assert.equal(out.decision, 'RETRY');
      assert.deepEqual(out.checks.filter((c) => !c.passed).map((c) => c.metric), [metric]);
      assert.equal(out.reasons.length, 1);
      assert.match(out.reasons[0], new RegExp(metric.replace(/\./g, '\\.')));
      assert.equal(out.escalation!.direction, direction);
    });
  }

  it('asks for utility protection (another method) when forgetting and utility both fail', () => {
    const out = decide((m) => {
      m.forget.text = value(0.9);
      m.general.overall = value(0.1, 0.1);
    });
    assert.equal(out.decision, 'RETRY');
    assert.equal(out.reasons.length, 2);
    assert.equal(out.escalation!.direction, 'PROTECT_UTILITY');
    assert.equal(out.escalation!.method, 'ga_klr');
  });

  it('sends to review when the retry budget is spent', () => {
    const out = decide((m) => (m.forget.text = value(0.9)), { attempt: 3, maxAttempts: 3 });
    assert.equal(out.decision, 'NEEDS_REVIEW');
    assert.match(out.reasons.at(-1)!, /retry budget exhausted \(attempt 3 of 3\)/);
  });

  it('rejects attempt numbers outside 1..maxAttempts', () => {
    assert.throws(() => decide(() => {}, { attempt: 4, maxAttempts: 3 }), (e: unknown) => e instanceof AuditError && e.field === 'attempt');
    assert.throws(() => decide(() => {}, { maxAttempts: 0 }), (e: unknown) => e instanceof AuditError && e.field === 'maxAttempts');
  });
});

describe('the gate fails closed', () => {
  const missing: Array<[string, (m: AuditMetrics) => void]> = [
    ['an empty forget set (null accuracy)', (m) => (m.forget.multimodal = value(null))],
    ['a NaN accuracy', (m) => (m.cumulativeForget.text = value(Number.NaN))],
    ['no version-0 number for retain', (m) => (m.retain.text = value(0.9, null))],
    ['an infinite ratio for general', (m) => (m.general.overall = value(0.9, Number.POSITIVE_INFINITY))],
  ];
  for (const [name, change] of missing) {
    it(`never promotes on ${name}, even on the first attempt`, () => {
      const out = decide(change);
      assert.equal(out.decision, 'NEEDS_REVIEW');
      assert.match(out.reasons.join('\n'), /is missing/);
      assert.equal(out.escalation, null);
    });
  }

  it('never promotes when the audit itself failed', () => {
    const out = decideGate({ metrics: passing(), policy: DEFAULT_GATE_POLICY, attempt: 1, maxAttempts: 3, auditError: 'adapter sha256 mismatch' });
    assert.equal(out.decision, 'NEEDS_REVIEW');
    assert.deepEqual(out.reasons, ['audit did not complete: adapter sha256 mismatch']);
    assert.equal(decideGate({ metrics: null, policy: DEFAULT_GATE_POLICY, attempt: 1, maxAttempts: 1 }).decision, 'NEEDS_REVIEW');
  });
});

describe('gate policy documents', () => {
  it('fills defaults and applies a stricter lineage policy', () => {
    assert.deepEqual(parseGatePolicy({}), DEFAULT_GATE_POLICY);
    const strict = parseGatePolicy('{"version": 4, "forget": {"maxAccuracyAboveChance": 0.05}, "general": {"circularEval": true}}');
    assert.equal(strict.version, 4);
    assert.equal(strict.retain.minFractionOfBaseline, 0.85);
    assert.equal(strict.general.circularEval, true);
    const out = decideGate({ metrics: passing(), policy: strict, attempt: 1, maxAttempts: 2 });
    // The bar drops to 0.30: forget.text (0.35) fails; the 0.30s sit exactly on it and pass.
    assert.equal(out.decision, 'RETRY');
    assert.deepEqual(out.checks.filter((c) => !c.passed).map((c) => c.metric), ['forget.text.accuracy']);
  });

  const bad: Array<[unknown, string, RegExp]> = [
    [{ retain: { minFractionOfBaseline: 1.5 } }, 'gatePolicy.retain.minFractionOfBaseline', /between 0 and 1, got 1.5/],
    [{ retain: { minFractionOfBaseline: '0.8' } }, 'gatePolicy.retain.minFractionOfBaseline', /got "0.8"/],
    [{ forget: { maxAccuracyAboveChance: 0.9 } }, 'gatePolicy.forget.maxAccuracyAboveChance', /exceeds 1/],
    [{ general: { circularEval: 'yes' } }, 'gatePolicy.general.circularEval', /true or false/],
    [{ general: { minFraction: 0.5 } }, 'gatePolicy.general.minFraction', /unknown field/],
    [{ retian: {} }, 'gatePolicy.retian', /unknown field/],
    [{ version: 0 }, 'gatePolicy.version', /integer >= 1/],
    [{ forget: null }, 'gatePolicy.forget', /JSON object/],
    [[], 'gatePolicy', /JSON object/],
    ['{not json', 'gatePolicy', /not valid JSON/],
  ];
  for (const [doc, field, message] of bad) {
    it(`rejects ${JSON.stringify(doc)} naming ${field}`, () => {
      assert.throws(
        () => parseGatePolicy(doc),
        (e: unknown) => e instanceof AuditError && e.reason === 'INVALID_GATE_POLICY' && e.code === 'BAD_USER_INPUT' && e.field === field && message.test(e.message),
      );
    });
  }
});
