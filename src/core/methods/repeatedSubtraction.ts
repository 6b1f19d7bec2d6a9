/**
 * Repeated float64 subtraction x ← x - step, as a loop that takes it step by step computes it, but
 * whole stretches of steps at once: the L2 search (mse.ts) steps PyTorch's quantile `beta` down by
 * 1e-5 up to ~40,000 times a tensor, each step compared against a bound, and those steps were most of
 * a HistogramObserver search.
 *
 * Within one binade [p, 2p) of x (doubles spaced u = p·2^-52 apart), every step subtracts the same
 * double d, the multiple of u nearest to step: x is on that grid, so x - step lies within u/2 of
 * x - d, and rounding to nearest returns x - d as long as that stays at or above p + u (the exact
 * difference is then above p, inside the binade) and step is not exactly halfway between two
 * multiples of u (a tie, whose rounding would depend on x's last bit; checked, and stepped one at a
 * time). So the k-th value is x - k·d exactly (IEEE 754 §4.3.1 round to nearest; k·d and x - k·d are
 * multiples of u below 2^53·u: no rounding), and a monotone stopping rule is found by bisection over k.
 */

/**
 * The first value of x, x - step, (x - step) - step, ... (each difference rounded to float64) at which
 * `done` holds. `done` must be monotone along the sequence (once true, true for every later value),
 * as the L2 search's stopping rules are; it is evaluated only at values of the sequence.
 */
export function subtractUntil(x: number, step: number, done: (x: number) => boolean): number {
  while (!done(x)) {
    const next = x - step;
    const k = stepsInBinade(x, step, next);
    if (k === 0) {
      x = next;
      continue;
    }
    const d = x - next; // exact: next and x within a factor 2 (Sterbenz)
    if (!done(x - k * d)) {
      x -= k * d; // the last value this binade's stretch reaches; the binade's edge is stepped singly
      continue;
    }
    // done(x - lo·d) is false, done(x - hi·d) true
    let lo = 0;
    let hi = k;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (done(x - mid * d)) hi = mid;
      else lo = mid;
    }
    return x - hi * d;
  }
  return x;
}

/** Smallest binade handled by the stretches (well above the subnormals, whose spacing is fixed). */
const MIN_BINADE = 2 ** -1000;

/**
 * How many steps from x (next = x - step, its first) subtract exactly x - next each and stay at or
 * above p + u, p the bottom of x's binade: 0 when the first step leaves it or does not move x, on a
 * tie, or outside the positive normal range.
 */
export function stepsInBinade(x: number, step: number, next: number): number {
  if (!(x > 0 && x < Infinity && step > 0 && step < Infinity)) return 0;
  let p = 2 ** Math.floor(Math.log2(x)); // Math.log2 may be an ulp off at a power of two: fixed below
  if (p > x) p /= 2;
  else if (p * 2 <= x) p *= 2;
  if (p < MIN_BINADE) return 0;
  const u = p * 2 ** -52;
  if (next < p + u) return 0;
  const d = x - next;
  if (!(d > 0)) return 0; // a step under half a spacing leaves x where it is: no stretch to take
  if (!(Math.abs(step - d) < u / 2)) return 0; // a tie (or the rounding is not the nearest multiple)
  // in units of u (integers below 2^53, exact): the largest k with x - k·d >= p + u
  const room = (x - p - u) / u;
  const du = d / u;
  let k = Math.floor(room / du);
  if (k * du > room) k--; // the quotient rounded up to an integer
  return k;
}
