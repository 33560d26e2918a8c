// The forgetting statistics on hand-made lists with known values. The KS reference values were computed
// once with scipy 1.17.1 (scipy.stats.ks_2samp(x, y, method='exact'), scipy.stats.kstwobign.sf,
// scipy.stats.mannwhitneyu, scipy.stats.norm.ppf, scipy.stats.binom.cdf) and hard-coded here; the
// project's venv has no scipy, so a throwaway venv with `pip install scipy` ran them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binomialLowerTail } from '../../src/audits/domain/binomial';
import {
  aucConfidenceInterval,
  belowChance,
  hanleyMcNeilStandardError,
  kolmogorovSurvival,
  ksTwoSample,
  lossAttackAuc,
  normalQuantile,
  rankShares,
} from '../../src/audits/domain/forgetting-statistics';

/** Deterministic values in (0, 1); the same formula made scipy's inputs. */
function seq(n: number, a: number, b: number): number[] {
  return Array.from({ length: n }, (_, i) => ((i * a + b) % 1000) / 1000 + 0.0005);
}

function close(actual: number, expected: number, relative = 1e-9, label = ''): void {
  const tolerance = Math.max(relative * Math.abs(expected), 1e-15);
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label} ${actual} != ${expected} (tolerance ${tolerance})`);
}

describe('two-sample Kolmogorov-Smirnov test', () => {
  const cases: Array<[string, number[], number[], number, number]> = [
    ['disjoint, 5 vs 5', [1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 1, 0.007936507936507936],
    ['5 vs 6', [0.1, 0.2, 0.3, 0.4, 0.5], [0.35, 0.45, 0.55, 0.65, 0.75, 0.85], 0.6666666666666666, 0.10822510822510821],
    ['ties across the samples', [0.25, 0.25, 0.5, 0.5, 0.9], [0.25, 0.5, 0.5, 0.7, 0.8, 0.9, 0.1], 0.22857142857142856, 0.98989898989899],
    ['one person (5) vs 250 never seen', seq(5, 377, 11), seq(250, 613, 7), 0.284, 0.7407970642179625],
    ['fifty people (250) vs 250 never seen, shifted down', seq(250, 389, 3).map((v) => v * 0.8), seq(250, 613, 7), 0.224, 6.575145345880697e-6],
  ];
  for (const [label, x, y, statistic, pValue] of cases) {
    it(`matches scipy's exact ks_2samp: ${label}`, () => {
      const r = ksTwoSample(x, y);
      assert.equal(r.method, 'exact');
      assert.deepEqual([r.n, r.m], [x.length, y.length]);
      close(r.statistic, statistic, 1e-12, 'statistic');
      // A tiny p-value is 1 minus the inside probability: absolute, not relative, precision there.
      assert.ok(Math.abs(r.pValue - pValue) <= Math.max(1e-9 * pValue, 1e-13), `p ${r.pValue} != ${pValue}`);
      // Symmetric in its samples.
      close(ksTwoSample(y, x).pValue, r.pValue, 1e-9, 'swapped');
    });
  }

  it('gives p = 1 for identical samples and refuses empty or non-finite ones', () => {
    assert.deepEqual(ksTwoSample([0.3, 0.1], [0.1, 0.3]), { statistic: 0, pValue: 1, method: 'exact', n: 2, m: 2 });
    assert.throws(() => ksTwoSample([], [0.1]), /x: must hold at least one value/);
    assert.throws(() => ksTwoSample([0.1], [Number.NaN]), /y: must hold finite numbers only/);
  });

  it('uses Kolmogorov\'s limit (scipy.stats.kstwobign.sf) for samples too large for the exact walk', () => {
    for (const [lambda, expected] of [[0.3, 0.9999906941986655], [0.8, 0.5441424115741981], [1.0, 0.26999967167735456], [1.2, 0.11224966667072497], [1.5, 0.022217962616525127], [2.0, 0.0006709252557796953]]) {
      close(kolmogorovSurvival(lambda), expected, 1e-9, `lambda ${lambda}`);
    }
    const x = Array.from({ length: 3000 }, (_, i) => (i * 0.6180339887) % 1);
    const y = Array.from({ length: 2000 }, (_, i) => ((i * 0.4142135623) % 1) * 0.9);
    const r = ksTwoSample(x, y);
    assert.equal(r.method, 'asymptotic');
    close(r.pValue, kolmogorovSurvival(Math.sqrt((3000 * 2000) / 5000) * r.statistic), 1e-12);
  });
});

describe('loss-attack AUC', () => {
  it('is P(forgotten pRight > never-seen pRight), ties counting half (scipy mannwhitneyu U / nm = 0.7)', () => {
    const r = lossAttackAuc([0.9, 0.6, 0.4, 0.4], [0.1, 0.4, 0.5, 0.7, 0.2]);
    close(r.auc, 0.7, 1e-12);
    assert.deepEqual([r.n, r.referenceN], [4, 5]);
  });

  it('is 1 when the forgotten are still known, 0 when they are answered worse than never-seen people, 0.5 when alike', () => {
    assert.equal(lossAttackAuc([0.9, 0.8], [0.2, 0.3, 0.25]).auc, 1);
    assert.equal(lossAttackAuc([0.01, 0.02], [0.2, 0.3, 0.25]).auc, 0);
    assert.equal(lossAttackAuc([0.2, 0.3], [0.3, 0.2]).auc, 0.5);
    // pRight = 0 is an infinite loss, still ranked.
    assert.equal(lossAttackAuc([0], [0.1]).auc, 0);
  });

  it('has Hanley & McNeil\'s standard error (their 1982 example: AUC 0.893, 51 vs 58 cases -> 0.032)', () => {
    assert.ok(Math.abs(hanleyMcNeilStandardError(0.893, 51, 58) - 0.032) < 0.001);
    // Five questions against 250: wide (about 0.13 at 0.5), so a one-person request is not judged on noise.
    assert.equal(hanleyMcNeilStandardError(0.5, 5, 250).toFixed(3), '0.131');
    assert.equal(hanleyMcNeilStandardError(1, 5, 250), 0);
  });

  it('has a confidence interval at the policy\'s significance (scipy norm.ppf 0.975 = 1.959963984540054)', () => {
    close(normalQuantile(0.975), 1.959963984540054, 1e-8);
    close(normalQuantile(0.995), 2.5758293035489004, 1e-8);
    close(normalQuantile(0.01), -2.3263478740408408, 1e-8);
    const [low, high] = aucConfidenceInterval({ auc: 0.5, standardError: 0.1 }, 0.05);
    close(low, 0.5 - 0.1959963984540054, 1e-8);
    close(high, 0.5 + 0.1959963984540054, 1e-8);
    assert.deepEqual(aucConfidenceInterval({ auc: 0.95, standardError: 0.1 }, 0.05).map((v) => Number(v.toFixed(4))), [0.754, 1]);
  });
});

describe('rank shares and below-chance accuracy', () => {
  it('gives the share of each rank of the right answer; null for no questions', () => {
    assert.deepEqual(rankShares([1, 2, 1, 0]), [0.25, 0.5, 0.25, 0]);
    assert.equal(rankShares([0, 0, 0, 0]), null);
  });

  it('tests accuracy below chance with the binomial lower tail (scipy binom.cdf)', () => {
    close(binomialLowerTail(0, 5, 0.25), 0.23730468750000006, 1e-12);
    close(binomialLowerTail(0, 20, 0.25), 0.0031712119389339963, 1e-12);
    close(binomialLowerTail(10, 100, 0.25), 0.00013710056316795023, 1e-9);
    assert.equal(binomialLowerTail(5, 5, 0.25), 1);
    assert.equal(binomialLowerTail(-1, 5, 0.25), 0);
    // 0 of 5 right is not evidence of anything; 10 of 100 is.
    assert.deepEqual(belowChance(10, 100, 0.25), { correct: 10, n: 100, chance: 0.25, pValue: binomialLowerTail(10, 100, 0.25) });
  });
});
