// Two-sample statistics that compare the forgotten people's answers with those of people the model
// never saw (TOFU's forget quality, MUSE's PrivLeak). Pure, no library: sizes here are small (5 questions
// per person and modality), so every function says how many values it compared.
import { binomialLowerTail } from './binomial';

export interface KsTest {
  /** The largest distance between the two empirical distribution functions. */
  statistic: number;
  /** P(D >= statistic) when both samples come from one continuous distribution: 1 = indistinguishable. */
  pValue: number;
  /** 'exact' (lattice paths) up to EXACT_KS_MAX_CELLS; 'asymptotic' (Kolmogorov's limit) beyond. */
  method: 'exact' | 'asymptotic';
  n: number;
  m: number;
}

/** The exact distribution walks an (n+1) x (m+1) lattice: cheap up to here (a few ms). */
export const EXACT_KS_MAX_CELLS = 4_000_000;

function assertSample(values: number[], field: string): void {
  if (values.length === 0) throw new RangeError(`${field}: must hold at least one value`);
  if (!values.every(Number.isFinite)) throw new RangeError(`${field}: must hold finite numbers only`);
}

/**
 * The KS distance in units of 1/(n*m), as an integer so that the exact p-value compares lattice
 * points without rounding: max over values v of |n_x(<= v) * m - n_y(<= v) * n|.
 */
function ksDistanceUnits(x: number[], y: number[]): number {
  const a = [...x].sort((p, q) => p - q);
  const b = [...y].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let worst = 0;
  while (i < a.length && j < b.length) {
    const v = Math.min(a[i], b[j]);
    while (i < a.length && a[i] === v) i++;
    while (j < b.length && b[j] === v) j++;
    worst = Math.max(worst, Math.abs(i * b.length - j * a.length));
  }
  return worst;
}

/**
 * Exact two-sided p-value: the share of the C(n+m, n) equally likely orders of the pooled sample
 * whose path leaves the band |i*m - j*n| < h at some point. Walked as probabilities (each step's
 * chance is the remaining count over the remaining total), so nothing overflows.
 */
function ksExactPValue(h: number, n: number, m: number): number {
  if (h <= 0) return 1;
  // inside[j]: probability of reaching (i, j) without leaving the band, for the current i.
  let inside = new Float64Array(m + 1);
  inside[0] = 1;
  for (let j = 1; j <= m; j++) {
    inside[j] = Math.abs(0 * m - j * n) < h ? (inside[j - 1] * (m - j + 1)) / (n + m - j + 1) : 0;
  }
  for (let i = 1; i <= n; i++) {
    const next = new Float64Array(m + 1);
    for (let j = 0; j <= m; j++) {
      if (Math.abs(i * m - j * n) >= h) continue;
      const remaining = n + m - (i - 1) - j; // steps left at (i-1, j), and at (i, j-1) the same total
      const fromLeft = (inside[j] * (n - i + 1)) / remaining;
      const fromBelow = j > 0 ? (next[j - 1] * (m - j + 1)) / remaining : 0;
      next[j] = fromLeft + fromBelow;
    }
    inside = next;
  }
  return Math.min(1, Math.max(0, 1 - inside[m]));
}

/** Kolmogorov's limiting distribution: P(K > lambda). */
export function kolmogorovSurvival(lambda: number): number {
  if (lambda <= 0) return 1;
  if (lambda < 1.18) {
    // The theta-function form converges fast for small lambda: 1 - sqrt(2 pi)/lambda * sum exp(-(2k-1)^2 pi^2 / (8 lambda^2)).
    let sum = 0;
    for (let k = 1; k <= 20; k++) sum += Math.exp(-((2 * k - 1) ** 2) * Math.PI ** 2 / (8 * lambda * lambda));
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum));
  }
  let sum = 0;
  for (let k = 1; k <= 100; k++) sum += (k % 2 === 1 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
  return Math.min(1, Math.max(0, 2 * sum));
}

/**
 * Two-sample Kolmogorov-Smirnov test (two-sided), as TOFU's forget quality uses it. Ties are allowed in
 * the statistic; the p-value assumes continuous values, like scipy.stats.ks_2samp.
 */
export function ksTwoSample(x: number[], y: number[]): KsTest {
  assertSample(x, 'x');
  assertSample(y, 'y');
  const n = x.length;
  const m = y.length;
  const h = ksDistanceUnits(x, y);
  const statistic = h / (n * m);
  if ((n + 1) * (m + 1) <= EXACT_KS_MAX_CELLS) return { statistic, pValue: ksExactPValue(h, n, m), method: 'exact', n, m };
  return { statistic, pValue: kolmogorovSurvival(Math.sqrt((n * m) / (n + m)) * statistic), method: 'asymptotic', n, m };
}

export interface AucEstimate {
  /**
   * Area under the ROC curve of a loss attack (score = -log pRight) that calls a question "trained on"
   * when its loss is low: P(loss of a forgotten question < loss of a never-seen one), ties counting half.
   * 0.5 = indistinguishable; above = the forgotten are still known; below = they are answered worse than
   * people never seen (over-unlearning, visible too).
   */
  auc: number;
  /** Hanley & McNeil's (1982) standard error, from the AUC and both sample sizes. */
  standardError: number;
  /** Forgotten questions. */
  n: number;
  /** Never-seen questions. */
  referenceN: number;
}

/** Mid-ranks of the pooled values, 1-based (ties share their average rank). */
function midRanks(values: number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1][0] === order[start][0]) end++;
    for (let k = start; k <= end; k++) ranks[order[k][1]] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return ranks;
}

/** Hanley & McNeil's standard error of an AUC estimated from n positives and m negatives. */
export function hanleyMcNeilStandardError(auc: number, n: number, m: number): number {
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const variance = (auc * (1 - auc) + (n - 1) * (q1 - auc * auc) + (m - 1) * (q2 - auc * auc)) / (n * m);
  return Math.sqrt(Math.max(0, variance));
}

/** The loss attack's AUC (Mann-Whitney U / (n m)) on forgotten vs never-seen questions' pRight. */
export function lossAttackAuc(forgottenPRight: number[], neverSeenPRight: number[]): AucEstimate {
  assertSample(forgottenPRight, 'forgottenPRight');
  assertSample(neverSeenPRight, 'neverSeenPRight');
  const loss = (p: number) => -Math.log(p);
  const n = forgottenPRight.length;
  const m = neverSeenPRight.length;
  // The attack's score for "trained on" is the negated loss; rank-sum of the forgotten questions' scores.
  const ranks = midRanks([...forgottenPRight, ...neverSeenPRight].map((p) => -loss(p)));
  const rankSum = ranks.slice(0, n).reduce((a, r) => a + r, 0);
  const auc = (rankSum - (n * (n + 1)) / 2) / (n * m);
  return { auc, standardError: hanleyMcNeilStandardError(auc, n, m), n, referenceN: m };
}

/** Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p: must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** The two-sided (1 - significance) confidence interval of an AUC, clipped to [0, 1]. */
export function aucConfidenceInterval(estimate: Pick<AucEstimate, 'auc' | 'standardError'>, significance: number): [number, number] {
  const z = normalQuantile(1 - significance / 2);
  return [Math.max(0, estimate.auc - z * estimate.standardError), Math.min(1, estimate.auc + z * estimate.standardError)];
}

/** Shares of questions whose right answer was the model's 1st, 2nd, 3rd, 4th choice; null for no questions. */
export function rankShares(rankCounts: readonly number[]): number[] | null {
  const total = rankCounts.reduce((a, c) => a + c, 0);
  return total === 0 ? null : rankCounts.map((c) => c / total);
}

export interface BelowChance {
  correct: number;
  n: number;
  chance: number;
  /** P(X <= correct) for a guesser at chance. */
  pValue: number;
}

/** The binomial lower tail of an accuracy: how unlikely so few right answers are for a model guessing at chance. */
export function belowChance(correct: number, n: number, chance: number): BelowChance {
  return { correct, n, chance, pValue: binomialLowerTail(correct, n, chance) };
}
