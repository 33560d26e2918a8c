import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuditError } from '../../src/audits/domain/audit-error';
import { binomialUpperTail } from '../../src/audits/domain/binomial';
import { decideGate, GATE_RULES, GateInput } from '../../src/audits/domain/decision';
import { DEFAULT_GATE_POLICY, GatePolicy, parseGatePolicy } from '../../src/audits/domain/gate-policy';
import { AuditMetrics, MetricValue } from '../../src/audits/domain/metrics';
import { indistinguishableEvidence } from './fixtures';

/** An accuracy over 100 questions: large enough that the significance rule excuses nothing here. */
function value(accuracy: number | null, ofBaseline: number | null = null): MetricValue {
  const total = accuracy === null ? 0 : 100;
  const correct = accuracy !== null && Number.isFinite(accuracy) ? Math.round(accuracy * total) : 0;
  return { accuracy, correct, total, ofBaseline, deltaFromParent: null };
}

/** correct of total questions right. */
function counts(correct: number, total: number): MetricValue {
  return { accuracy: correct / total, correct, total, ofBaseline: null, deltaFromParent: null };
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
    forgetting: indistinguishableEvidence(),
    chanceLevel: 0.25,
    scoringMethod: 'test',
    scoredQuestions: 40,
  };
}

function decide(change: (m: AuditMetrics) => void, extra: Partial<GateInput> = {}) {
  const metrics = passing();
  change(metrics);
  return decideGate({ metrics, policy: DEFAULT_GATE_POLICY, ...extra });
}

describe('gate decisions under the default policy', () => {
  it('promotes when every rule passes, including exactly on the boundaries', () => {
    const out = decide(() => {});
    assert.equal(out.decision, 'PASS');
    assert.equal(out.checks.length, 7 + 12); // + 3 forgetting rules x 2 sets x 2 modalities
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
      assert.equal(out.decision, 'FAIL');
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
    assert.equal(out.decision, 'FAIL');
    assert.equal(out.reasons.length, 2);
    assert.equal(out.escalation!.direction, 'PROTECT_UTILITY');
    assert.equal(out.escalation!.method, 'ga_klr');
  });

  it('answers FAIL with an escalation, and PASS and REVIEW without one', () => {
    const failed = decide((m) => (m.forget.text = value(0.9)));
    assert.equal(failed.decision, 'FAIL');
    assert.equal(failed.escalation?.direction, 'STRENGTHEN_FORGETTING');
    assert.ok(failed.reasons.every((r) => !/attempt|budget/.test(r)), 'the gate knows nothing of attempts');
    assert.equal(decide(() => {}).escalation, null);
    assert.equal(decide((m) => (m.forget.text = value(null))).escalation, null);
  });

  it('checks every rule kind in a fixed order, each from its own policy section', () => {
    assert.deepEqual(GATE_RULES.flatMap((k) => k.rules), ['FORGET', 'CUMULATIVE_FORGET', 'RETAIN', 'GENERAL', 'FORGET_QUALITY', 'MIA_AUC', 'BELOW_CHANCE', 'FREE_FORM']);
    // FREE_FORM is checked where the audit asked the probe; these hand-made metrics have none.
    const out = decide(() => {});
    assert.deepEqual([...new Set(out.checks.map((c) => c.rule))], ['FORGET', 'CUMULATIVE_FORGET', 'RETAIN', 'GENERAL', 'FORGET_QUALITY', 'MIA_AUC', 'BELOW_CHANCE']);
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
      assert.equal(out.decision, 'REVIEW');
      assert.match(out.reasons.join('\n'), /is missing/);
      assert.equal(out.escalation, null);
    });
  }

  it('never promotes when the audit itself failed', () => {
    const out = decideGate({ metrics: passing(), policy: DEFAULT_GATE_POLICY, auditError: 'adapter sha256 mismatch' });
    assert.equal(out.decision, 'REVIEW');
    assert.deepEqual(out.reasons, ['audit did not complete: adapter sha256 mismatch']);
    assert.equal(decideGate({ metrics: null, policy: DEFAULT_GATE_POLICY }).decision, 'REVIEW');
  });
});

describe('the binomial tail P(X >= k | n, p)', () => {
  const close = (actual: number, expected: number, digits: number) =>
    assert.ok(Math.abs(actual - expected) < 0.5 * 10 ** -digits, `${actual} ≈ ${expected}`);

  it('matches hand-computed values at chance 0.25', () => {
    // 1 - 0.75^5 - 5 * 0.25 * 0.75^4
    close(binomialUpperTail(2, 5, 0.25), 0.3672, 4);
    // 5 * 0.25^4 * 0.75 + 0.25^5
    close(binomialUpperTail(4, 5, 0.25), 0.015625, 12);
    close(binomialUpperTail(6, 10, 0.25), 0.01973, 5);
    close(binomialUpperTail(3, 5, 0.25), 0.103515625, 12);
  });

  it('is 1 at k <= 0, 0 above n, and handles p of 0 and 1', () => {
    assert.equal(binomialUpperTail(0, 5, 0.25), 1);
    assert.equal(binomialUpperTail(-1, 5, 0.25), 1);
    assert.equal(binomialUpperTail(6, 5, 0.25), 0);
    assert.equal(binomialUpperTail(0, 0, 0.25), 1);
    assert.equal(binomialUpperTail(1, 5, 0), 0);
    assert.equal(binomialUpperTail(5, 5, 1), 1);
    close(binomialUpperTail(5, 5, 0.25), 0.25 ** 5, 15);
  });

  it('stays finite and monotone on large samples (no overflow or underflow)', () => {
    const n = 5000;
    let previous = 1;
    for (const k of [0, 1000, 1250, 1300, 1500, 5000]) {
      const tail = binomialUpperTail(k, n, 0.25);
      assert.ok(Number.isFinite(tail) && tail >= 0 && tail <= previous, `k=${k}: ${tail}`);
      previous = tail;
    }
    close(binomialUpperTail(1250, n, 0.25), 0.5, 1);
    assert.ok(binomialUpperTail(5000, n, 0.25) < 1e-300);
  });

  it('rejects impossible arguments', () => {
    assert.throws(() => binomialUpperTail(1, 2.5, 0.25), RangeError);
    assert.throws(() => binomialUpperTail(1.5, 5, 0.25), RangeError);
    assert.throws(() => binomialUpperTail(1, 5, 1.5), RangeError);
    assert.throws(() => binomialUpperTail(1, 5, Number.NaN), RangeError);
  });
});

describe('forget checks on small samples (the significance rule)', () => {
  it('passes 2 of 5 right (40% > 35%, but a random guesser does that 37% of the time)', () => {
    const out = decide((m) => (m.forget.text = counts(2, 5)));
    assert.equal(out.decision, 'PASS', out.reasons.join('; '));
    const c = out.checks.find((x) => x.metric === 'forget.text.accuracy')!;
    assert.equal(c.passed, true);
    assert.equal(c.passedBy, 'binomial');
    assert.deepEqual([c.correct, c.n, c.chance, c.significance], [2, 5, 0.25, 0.05]);
    assert.ok(Math.abs(c.pValue! - 0.3671875) < 1e-12);
  });

  it('passes 3 of 5 right (p = 0.10) and the same on the cumulative set', () => {
    const out = decide((m) => {
      m.forget.multimodal = counts(3, 5);
      m.cumulativeForget.text = counts(2, 5);
    });
    assert.equal(out.decision, 'PASS', out.reasons.join('; '));
    assert.deepEqual(out.checks.filter((c) => c.passedBy === 'binomial').map((c) => c.metric), ['forget.multimodal.accuracy', 'cumulativeForget.text.accuracy']);
  });

  it('fails 4 of 5 right (p = 0.0156 < 0.05) and says why', () => {
    const out = decide((m) => (m.forget.multimodal = counts(4, 5)));
    assert.equal(out.decision, 'FAIL');
    const c = out.checks.find((x) => x.metric === 'forget.multimodal.accuracy')!;
    assert.deepEqual([c.passed, c.passedBy], [false, null]);
    assert.ok(Math.abs(c.pValue! - 0.015625) < 1e-12);
    assert.equal(out.reasons.length, 1);
    assert.match(out.reasons[0], /forget\.multimodal\.accuracy = 0\.800 > 0\.350 and 4\/5 right is significantly above chance 0\.25 \(binomial p = 0\.0156 < 0\.05\) \(FORGET\)/);
    assert.equal(out.escalation!.direction, 'STRENGTHEN_FORGETTING');
  });

  it('fails 40% on 100 questions: on large samples the margin decides (p = 0.0007)', () => {
    const out = decide((m) => (m.cumulativeForget.multimodal = counts(40, 100)));
    assert.equal(out.decision, 'FAIL');
    const c = out.checks.find((x) => x.metric === 'cumulativeForget.multimodal.accuracy')!;
    assert.equal(c.passed, false);
    assert.ok(c.pValue! < 0.001);
  });

  it('passes within the margin whatever the p-value, and records which rule passed', () => {
    const out = decide((m) => (m.forget.text = counts(35, 100)));
    const c = out.checks.find((x) => x.metric === 'forget.text.accuracy')!;
    assert.ok(c.pValue! < 0.05);
    assert.deepEqual([c.passed, c.passedBy], [true, 'margin']);
    assert.equal(out.checks.find((x) => x.rule === 'RETAIN')!.pValue, undefined, 'only forget checks carry counts');
  });

  it('does not let rounding flip a p-value that sits exactly on the significance', () => {
    const metrics = passing();
    metrics.forget.multimodal = counts(4, 5);
    const out = decideGate({ metrics, policy: parseGatePolicy({ forget: { significance: 0.015625 } }) });
    assert.equal(out.decision, 'PASS', out.reasons.join('; '));
  });

  it('follows the policy: at significance 0.5, 2 of 5 right fails', () => {
    const policy: GatePolicy = parseGatePolicy({ forget: { significance: 0.5 } });
    const metrics = passing();
    metrics.forget.text = counts(2, 5);
    const out = decideGate({ metrics, policy });
    assert.equal(out.decision, 'FAIL');
    assert.match(out.reasons[0], /p = 0\.367 < 0\.5/);
  });

  it('still fails closed: counts cannot rescue a missing accuracy, and inconsistent counts excuse nothing', () => {
    const missing = decide((m) => (m.forget.text = { ...counts(1, 5), accuracy: Number.NaN }));
    assert.equal(missing.decision, 'REVIEW');
    const broken = decide((m) => (m.forget.text = { ...counts(2, 5), correct: 7 }));
    const c = broken.checks.find((x) => x.metric === 'forget.text.accuracy')!;
    assert.deepEqual([c.passed, c.pValue], [false, null]);
  });
});

describe('gate policy documents', () => {
  it('gives a policy without forget.significance the default 0.05', () => {
    const old = parseGatePolicy({ version: 3, forget: { maxAccuracyAboveChance: 0.2 } });
    assert.deepEqual(old.forget, { maxAccuracyAboveChance: 0.2, significance: 0.05, minForgetQuality: 0.05, maxMiaAucDistance: 0.1, refuseBelowChance: true, freeFormProbe: true, requireUnlearning: true });
    assert.equal(parseGatePolicy({ forget: { significance: 0.5 } }).forget.significance, 0.5);
    // forget.requireUnlearning: train even a person version 0 showed no knowledge of (default); false completes without.
    assert.equal(parseGatePolicy({ forget: { requireUnlearning: false } }).forget.requireUnlearning, false);
    assert.throws(() => parseGatePolicy({ forget: { requireUnlearning: 'yes' } }), /must be true or false/);
    assert.equal(parseGatePolicy({ forget: { significance: 0.001 } }).forget.significance, 0.001);
  });

  it('fills defaults and applies a stricter lineage policy', () => {
    assert.deepEqual(parseGatePolicy({}), DEFAULT_GATE_POLICY);
    const strict = parseGatePolicy('{"version": 4, "forget": {"maxAccuracyAboveChance": 0.05}, "general": {"circularEval": true}}');
    assert.equal(strict.version, 4);
    assert.equal(strict.retain.minFractionOfBaseline, 0.85);
    assert.equal(strict.general.circularEval, true);
    const out = decideGate({ metrics: passing(), policy: strict });
    // The bar drops to 0.30: forget.text (0.35) fails; the 0.30s sit exactly on it and pass.
    assert.equal(out.decision, 'FAIL');
    assert.deepEqual(out.checks.filter((c) => !c.passed).map((c) => c.metric), ['forget.text.accuracy']);
  });

  it('carries the per-person goal that picks among a step\'s candidates: 0.40 and 3 goal passes unless the lineage says otherwise', () => {
    assert.deepEqual(parseGatePolicy({}).goal, { maxForgottenAccuracy: 0.4, passes: 3 });
    assert.deepEqual(parseGatePolicy({ goal: { passes: 0 } }).goal, { maxForgottenAccuracy: 0.4, passes: 0 });
    assert.deepEqual(parseGatePolicy({ goal: { maxForgottenAccuracy: 0.3 } }).goal, { maxForgottenAccuracy: 0.3, passes: 3 });
  });

  const bad: Array<[unknown, string, RegExp]> = [
    [{ retain: { minFractionOfBaseline: 1.5 } }, 'gatePolicy.retain.minFractionOfBaseline', /between 0 and 1, got 1.5/],
    [{ retain: { minFractionOfBaseline: '0.8' } }, 'gatePolicy.retain.minFractionOfBaseline', /got "0.8"/],
    [{ forget: { maxAccuracyAboveChance: 0.9 } }, 'gatePolicy.forget.maxAccuracyAboveChance', /exceeds 1/],
    [{ forget: { significance: 0 } }, 'gatePolicy.forget.significance', /in \(0, 0\.5\], got 0$/],
    [{ forget: { significance: 0.6 } }, 'gatePolicy.forget.significance', /in \(0, 0\.5\], got 0\.6/],
    [{ forget: { significance: -0.05 } }, 'gatePolicy.forget.significance', /got -0\.05/],
    [{ forget: { significance: '0.05' } }, 'gatePolicy.forget.significance', /got "0\.05"/],
    [{ forget: { significance: null } }, 'gatePolicy.forget.significance', /got null/],
    [{ forget: { minForgetQuality: 1.2 } }, 'gatePolicy.forget.minForgetQuality', /between 0 and 1, got 1\.2/],
    [{ forget: { maxMiaAucDistance: 0.6 } }, 'gatePolicy.forget.maxMiaAucDistance', /between 0 and 0\.5, got 0\.6/],
    [{ forget: { refuseBelowChance: 'no' } }, 'gatePolicy.forget.refuseBelowChance', /true or false/],
    [{ general: { circularEval: 'yes' } }, 'gatePolicy.general.circularEval', /true or false/],
    [{ goal: { maxForgottenAccuracy: 1.2 } }, 'gatePolicy.goal.maxForgottenAccuracy', /between 0 and 1, got 1.2/],
    [{ goal: { passes: 1.5 } }, 'gatePolicy.goal.passes', /integer in 0\.\.10, got 1\.5/],
    [{ goal: { passes: 11 } }, 'gatePolicy.goal.passes', /integer in 0\.\.10, got 11/],
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
