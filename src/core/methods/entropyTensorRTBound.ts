/**
 * The lower bound TensorRT's pruned entropy search (entropyTensorRTFast.ts) skips candidates with: the
 * clipping cost alone of a candidate's divergence (merging bins never raises a KL divergence), and the
 * rounding allowance that keeps a skip exact.
 */
import type { Prefix } from './entropyTensorRT';

/**
 * A lower bound on candidate i's divergence, in O(1) from the prefix sums. Merging positions never
 * increases a KL divergence (the data-processing inequality: Cover & Thomas, Elements of Information
 * Theory, 2nd ed., Theorem 2.8.1 / the log-sum inequality 2.7.1), so KL(p || q) >= KL(P || Q) for the
 * masses P, Q of p and q (each normalised as the search normalises it: p by the total T with the
 * outliers O, q by S = H[i] without them) over three groups of positions:
 *  - the levels before the last, [0, a) with a = i - floor(i / L) (the last level is floor(i / L)
 *    bins wide): p and q hold the same counts there, F = H[a], so P = F / T and Q = F / S;
 *  - the last level but its last bin, [a, i - 1): mass m - b (m = H[i] - H[a], b = the last bin) in
 *    p; in q each of the level's nz non-empty bins holds m / nz, and nz - [b > 0] of them lie here;
 *  - the last bin: b + O in p (the outliers are folded into it), m / nz in q when b > 0, else 0
 *    (infinite: the search scores that candidate Infinity too).
 * It is the clipping cost alone (what the outliers do to p), zero when there are none: it rules out
 * candidates that clip too much, not those whose levels are too coarse. With `logs` false each term
 * P·log(P / Q) is replaced by klTermBelow's lower bound: weaker, but without a logarithm.
 */
export function clipBound(t: Prefix, levels: number, i: number, logs = true): number {
  const { bins, H, Z } = t;
  const total = H[bins.length]!;
  const S = H[i]!;
  const O = total - S;
  const b = bins[i - 1]!;
  if (b === 0 && O > 0) return Infinity;
  const a = i - Math.floor(i / levels);
  const F = H[a]!;
  const m = S - F;
  if (m === 0) return 0; // no outliers (b = 0 and O = 0) and an empty last level: p = q over it
  const nz = Z[i]! - Z[a]!;
  const qBin = m / S / nz; // q's mass a non-empty bin of the last level
  const rest = m - b;
  const pFront = F / total;
  const qFront = F / S;
  const pRest = rest / total;
  const qRest = qBin * (nz - (b > 0 ? 1 : 0));
  const pLast = (b + O) / total;
  if (logs)
    return (
      (F > 0 ? klTerm(pFront, qFront) : 0) +
      (rest > 0 ? klTerm(pRest, qRest) : 0) +
      (b + O > 0 ? klTerm(pLast, qBin) : 0)
    );
  return (
    (F > 0 ? klTermBelow(pFront, qFront) : 0) +
    (rest > 0 ? klTermBelow(pRest, qRest) : 0) +
    (b + O > 0 ? klTermBelow(pLast, qBin) : 0)
  );
}

/** x·log(x / y), x and y > 0. */
function klTerm(x: number, y: number): number {
  return x * Math.log(x / y);
}

/**
 * A lower bound on x·log(x / y) (x, y > 0) without a logarithm, for clipBound to rule out most
 * candidates before it takes any: with z = x / y, log z >= (z - 1/z) / 2 for z <= 1 (equal at 1, and
 * the difference's derivative -(1 - 1/z)^2 / 2 <= 0), and for z > 1 log z = 2 atanh(v) = 2 Σ v^(2k+1) /
 * (2k + 1), v = (z - 1) / (z + 1) in (0, 1), whose first three terms (all positive) stay below it.
 */
function klTermBelow(x: number, y: number): number {
  const z = x / y;
  if (z <= 1) return (x * (z - 1 / z)) / 2;
  const v = (z - 1) / (z + 1);
  const v2 = v * v;
  return 2 * x * v * (1 + v2 * (1 / 3 + v2 / 5));
}

/**
 * How far clipBound's float value (either form) and a candidate's computed score (the level-by-level sum
 * the search re-scores with) may each be from the real values they stand for. A candidate is skipped
 * only when its bound, less this allowance, is above an upper value of the least computed score, so
 * that its own computed score is strictly above that least: it can be neither the minimum nor a tie
 * the last-minimum rule would prefer. With integer counts (T < 2^53, so H and Z are exact) and
 * u = 2^-53 (Higham, Accuracy and Stability of Numerical Algorithms, §2.2 and §4.2; Math.log within
 * one ulp, fdlibm's):
 *  - A[i - 1] sums i - 1 terms b log b >= 0, each within 3u: off by at most (n + 3)·u'·T log T;
 *  - the cross sum adds L terms (mass + O)·log(mass / nz), mass / nz >= 1, each off by at most 4u of
 *    itself plus 2u·(mass + O) (a rounded quotient near 1 moves its log by u absolutely): off by at
 *    most (L + 6)·u'·T·(log T + 1);
 *  - so self / T and cross / T are within (n + L + 9)·u'·(log T + 1), and the last expression's four
 *    parts (each at most log T + 1 in size) and three additions round by at most 8u·(log T + 1) more;
 *  - clipBound: three terms P·log(P / Q) (or its lower bound: at most eight operations), P <= 1 and
 *    P / Q <= T·n, each term at most log T + log n + 1 in size: within 32u·(log T + log n + 1);
 *  - roughPruned's levels' shares, (A[a] - a partial sum of row terms) / T: A[a] and the row terms are
 *    rounded as the score's, so within (n + L + 9)·u'·(log T + 1) again, in any order of summing.
 * Together below 2·(n + L + 64)·u·(log T + log n + 2); the allowance takes 4 times that (~6e-11 for
 * 2048 bins and 1e8 counts, far below the gaps between candidates it decides on).
 */
export function clipAllowance(n: number, levels: number, total: number): number {
  return (n + levels + 64) * 2 ** -50 * (Math.log(total) + Math.log(n) + 2);
}
