// The binomial tail the forget gate uses to tell "forgot, and guessed lucky" from "still knows".
// Pure, exact sum (in log space so large n neither overflows nor underflows), no library.

/**
 * P(X >= k) for X ~ Binomial(n, p): the one-sided p-value of getting k or more of n questions
 * right when every answer is right with probability p (a model guessing at chance).
 * E.g. n = 5, p = 0.25: k = 2 -> 0.3672, k = 4 -> 0.015625.
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n: must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(k)) throw new RangeError(`k: must be an integer, got ${k}`);
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) throw new RangeError(`p: must be a number in [0, 1], got ${p}`);
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p === 0) return 0;
  if (p === 1) return 1;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  // log C(n, i), built up from log C(n, 0) = 0.
  let logChoose = 0;
  for (let i = 0; i < k; i++) logChoose += Math.log(n - i) - Math.log(i + 1);
  let sum = 0;
  for (let i = k; i <= n; i++) {
    sum += Math.exp(logChoose + i * logP + (n - i) * logQ);
    logChoose += Math.log(n - i) - Math.log(i + 1);
  }
  return Math.min(1, Math.max(0, sum));
}

/**
 * P(X <= k) for X ~ Binomial(n, p): the one-sided p-value of getting k or fewer of n questions right
 * when every answer is right with probability p. Summed exactly as the upper tail of the wrong answers
 * (n - X ~ Binomial(n, 1 - p)), so a tiny tail keeps its precision.
 * E.g. n = 5, p = 0.25: k = 0 -> 0.2373; n = 20: k = 0 -> 0.003171.
 */
export function binomialLowerTail(k: number, n: number, p: number): number {
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) throw new RangeError(`p: must be a number in [0, 1], got ${p}`);
  if (!Number.isInteger(k)) throw new RangeError(`k: must be an integer, got ${k}`);
  return binomialUpperTail(n - k, n, 1 - p);
}
