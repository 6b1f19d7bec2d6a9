/**
 * Entropy (KL divergence) calibration, onnxruntime's algorithm (calibrate.py:
 * HistogramCollector.get_entropy_threshold) on the value histogram: for each candidate i from
 * nq/2 to n/2, keep bins [n/2 - i, n/2 + i], fold the outliers into the end bins (p), merge the slice
 * into nq bins and spread each back over its run with integer (truncated) averages of the non-zero count (q),
 * smooth both (eps 1e-4) and take the candidate with the least KL(p || q) in float32; clamp to the data.
 * With ORT's defaults (128 bins, 128 quantized bins) one candidate exists, so it equals min-max:
 * Quantscope defaults to 2048 bins, which searches.
 *
 * The exhaustive search costs O(bins²) float32 logarithms (~40 ms for 2048 bins). `entropyRangeOrt`
 * gets the same answer in ~1 ms: a first pass scores every candidate in float64 from prefix sums
 * (O(1) a candidate from block sums; see entropyFast.ts), then only the candidates within a rounding
 * margin of the best are scored exactly as ORT does, and ORT's argmin (first minimum) is taken among
 * them (a lone candidate within the margin needs no exact score: on PP-OCRv4 det's 236 activations the
 * margin holds one candidate for most tensors, 345 in all). When the margin holds too many candidates (a flat divergence curve) it scores them all.
 */
import type { HistogramState } from '../histogram';
import { histogramRange } from '../histogram';
import { histogramEdge } from './edges';
import { QuantscopeError } from '../errors';
import { f32 } from '../rounding';
import type { Range } from './percentile';
import { fastDivergences } from './entropyFast';

export { fastDivergences, fastDivergencesByRun } from './entropyFast';

/**
 * quant_utils.smooth_distribution into `out`: move eps of mass onto the empty bins. False when all
 * bins are empty (ORT returns None, and that candidate's divergence is infinite).
 */
function smoothInto(p: Float64Array, len: number, out: Float32Array, eps = 0.0001): boolean {
  let zeros = 0;
  for (let i = 0; i < len; i++) if (p[i] === 0) zeros++;
  const nonzeros = len - zeros;
  if (!nonzeros) return false;
  const eps1 = f32((eps * zeros) / nonzeros);
  const e = f32(eps);
  for (let i = 0; i < len; i++) out[i] = f32(f32(p[i]!) + (p[i] === 0 ? e : -eps1));
  return true;
}

/** numpy's pairwise sum of float32 values (blocks of 8 unrolled, 128-element leaves), in float32. */
function pairwiseSum32(a: Float32Array, start: number, n: number): number {
  if (n < 8) {
    let s = 0;
    for (let i = 0; i < n; i++) s = f32(s + a[start + i]!);
    return s;
  }
  if (n <= 128) {
    // the eight accumulators in locals (an array of them was a small allocation a leaf)
    let r0 = a[start]!;
    let r1 = a[start + 1]!;
    let r2 = a[start + 2]!;
    let r3 = a[start + 3]!;
    let r4 = a[start + 4]!;
    let r5 = a[start + 5]!;
    let r6 = a[start + 6]!;
    let r7 = a[start + 7]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const j = start + i;
      r0 = f32(r0 + a[j]!);
      r1 = f32(r1 + a[j + 1]!);
      r2 = f32(r2 + a[j + 2]!);
      r3 = f32(r3 + a[j + 3]!);
      r4 = f32(r4 + a[j + 4]!);
      r5 = f32(r5 + a[j + 5]!);
      r6 = f32(r6 + a[j + 6]!);
      r7 = f32(r7 + a[j + 7]!);
    }
    let res = f32(f32(f32(r0 + r1) + f32(r2 + r3)) + f32(f32(r4 + r5) + f32(r6 + r7)));
    for (; i < n; i++) res = f32(res + a[start + i]!);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return f32(pairwiseSum32(a, start, n2) + pairwiseSum32(a, start + n2, n - n2));
}

/**
 * The local `entropy(p, q)` of calibrate.py: both normalised in float32, Σ p log(p / q). A term equal
 * in (p, q) to the one before it is the same float32 number, so its logarithm is not taken again: the
 * smoothed zeros of p inside one merged run (q constant over it) all have the same term, which makes
 * a sparse histogram's score cost a logarithm a non-zero bin and a run rather than one a bin.
 */
function klDivergence(p: Float32Array, q: Float32Array, len: number, terms: Float32Array, reuse: boolean): number {
  const sp = pairwiseSum32(p, 0, len);
  const sq = pairwiseSum32(q, 0, len);
  let lastP = NaN; // no pair equals NaN: the first term is always computed
  let lastQ = NaN;
  let rawP = NaN; // the unnormalised pair the last term came from
  let rawQ = NaN;
  let last = 0;
  for (let i = 0; i < len; i++) {
    const a = p[i]!;
    const b = q[i]!;
    // the same unnormalised pair as the bin before (a run of smoothed zeros): the same term, without
    // its two divisions
    if (reuse && a === rawP && b === rawQ) {
      terms[i] = last;
      continue;
    }
    const pi = f32(a / sp);
    const qi = f32(b / sq);
    if (!reuse || pi !== lastP || qi !== lastQ) {
      if (pi === 0 && qi >= 0) last = 0;
      else if (pi > 0 && qi > 0) last = f32(pi * f32(Math.log(f32(pi / qi))));
      else last = Infinity;
      lastP = pi;
      lastQ = qi;
    }
    rawP = a;
    rawQ = b;
    terms[i] = last;
  }
  return pairwiseSum32(terms, 0, len);
}

export interface EntropyResult extends Range {
  /** KL divergence per candidate (index i - nq/2), for drawing the search. */
  readonly divergences: Float32Array;
}

interface Buffers {
  readonly p: Float64Array;
  readonly q: Float64Array;
  readonly ps: Float32Array;
  readonly qs: Float32Array;
  readonly terms: Float32Array;
  readonly qb: Float64Array;
}

let scratch: Buffers | null = null;

/**
 * Buffers for n bins and nq quantized bins, shared by every search (searches run one at a time and
 * each writes a slice before it reads it): fresh ones each call were ~80 KB of garbage a tensor.
 */
function buffers(n: number, nq: number): Buffers {
  if (!scratch || scratch.p.length < n || scratch.qb.length < nq) {
    const size = Math.max(n, scratch?.p.length ?? 0);
    scratch = {
      p: new Float64Array(size),
      q: new Float64Array(size),
      ps: new Float32Array(size),
      qs: new Float32Array(size),
      terms: new Float32Array(size),
      qb: new Float64Array(Math.max(nq, scratch?.qb.length ?? 0)),
    };
  }
  return scratch;
}

/** Σ hist[0..k) for every k: outlier and run masses in O(1). */
function prefixSums(hist: Float64Array): Float64Array {
  const prefix = new Float64Array(hist.length + 1);
  for (let k = 0; k < hist.length; k++) prefix[k + 1] = prefix[k]! + hist[k]!;
  return prefix;
}

/** ORT's divergence for candidate i, computed exactly as calibrate.py does (float32 where it is). */
function exactDivergence(
  hist: Float64Array,
  prefix: Float64Array,
  i: number,
  nq: number,
  b: Buffers,
  reuseTerms = true,
): number {
  const n = hist.length;
  const zero = n >> 1;
  const { p, q, ps, qs, terms, qb } = b;
  const start = zero - i;
  const end = Math.min(zero + i + 1, n);
  const len = end - start;
  for (let k = 0; k < len; k++) p[k] = hist[start + k]!;
  p[0]! += prefix[start]!;
  p[len - 1]! += prefix[n]! - prefix[end]!;
  const merged = Math.floor(len / nq);
  for (let r = 0; r < nq; r++) qb[r] = prefix[start + (r + 1) * merged]! - prefix[start + r * merged]!;
  qb[nq - 1]! += prefix[end]! - prefix[start + nq * merged]!;
  q.fill(0, 0, len);
  for (let r = 0; r < nq; r++) {
    let norm = 0;
    for (let k = r * merged; k < (r + 1) * merged; k++) if (p[k] !== 0) norm++;
    // ORT assigns the truncated average to every position of the merged run (zeros included).
    if (norm) q.fill(Math.trunc(qb[r]! / norm), r * merged, (r + 1) * merged);
  }
  return smoothInto(p, len, ps) && smoothInto(q, len, qs) ? klDivergence(ps, qs, len, terms, reuseTerms) : Infinity;
}

function clampedRange(h: HistogramState, i: number, divergences: Float32Array): EntropyResult {
  const n = h.counts.length;
  // the centre bin, n >> 1 (= floor(n / 2)) here and below: V8 compiled floor(n / 2) as an integer
  // division and deoptimized on every odd bin count (a coarsened 128-bin search: ~60 times a pass)
  const zero = n >> 1;
  const [lo, hi] = histogramRange(h);
  let rmin = histogramEdge(lo, hi, n, zero - i);
  let rmax = histogramEdge(lo, hi, n, Math.min(zero + i + 1, n));
  if (rmin < h.min) rmin = h.min;
  if (rmax > h.max) rmax = h.max;
  return { rmin, rmax, divergences };
}

/**
 * Every candidate scored exactly: O(bins²). The reference the fast search is tested against;
 * `reuseTerms: false` takes every term's logarithm, the reference for the reuse in klDivergence.
 */
export function entropyRangeOrtExhaustive(
  h: HistogramState,
  numQuantizedBins = 128,
  { reuseTerms = true }: { reuseTerms?: boolean } = {},
): EntropyResult {
  const hist = h.counts;
  const n = hist.length;
  const zero = n >> 1;
  const half = Math.floor(numQuantizedBins / 2);
  const divergences = new Float32Array(Math.max(zero - half + 1, 0));
  const prefix = prefixSums(hist);
  const b = buffers(n, numQuantizedBins);
  let best = 0;
  for (let i = half; i <= zero; i++) {
    const div = exactDivergence(hist, prefix, i, numQuantizedBins, b, reuseTerms);
    divergences[i - half] = div;
    if (div < divergences[best]!) best = i - half;
  }
  return clampedRange(h, best + half, divergences);
}

/** Candidates whose float64 score is within this of the best are re-scored exactly (float32 rounding
 * moves ORT's own scores by ~1e-6 relative). */
const MARGIN_REL = 1e-4;
const MARGIN_ABS = 1e-6;
const MAX_EXACT = 64;

export function entropyRangeOrt(h: HistogramState, numQuantizedBins = 128): EntropyResult {
  const hist = h.counts;
  if (hist.length < numQuantizedBins) {
    throw new QuantscopeError(
      'BAD_RANGE',
      `the entropy search needs at least ${numQuantizedBins} bins (the quantized bins); the histogram has ${hist.length}`,
    );
  }
  const half = Math.floor(numQuantizedBins / 2);
  const zero = hist.length >> 1;
  if (zero === half) {
    // one candidate (onnxruntime's defaults: 128 bins, 128 quantized bins): it is the argmin whatever
    // its score, so only that score is computed, for the chart
    const div = exactDivergence(hist, prefixSums(hist), half, numQuantizedBins, buffers(hist.length, numQuantizedBins));
    return clampedRange(h, half, Float32Array.of(div));
  }
  const fast = fastDivergences(hist, numQuantizedBins);
  if (!fast || fast.length === 0) return entropyRangeOrtExhaustive(h, numQuantizedBins);
  let min = Infinity;
  for (let k = 0; k < fast.length; k++) if (fast[k]! < min) min = fast[k]!;
  if (min === Infinity) return entropyRangeOrtExhaustive(h, numQuantizedBins);
  const margin = Math.abs(min) * MARGIN_REL + MARGIN_ABS;
  const near: number[] = [];
  for (let k = 0; k < fast.length; k++) if (fast[k]! <= min + margin) near.push(k);
  if (near.length > MAX_EXACT) return entropyRangeOrtExhaustive(h, numQuantizedBins);
  // a lone candidate within the margin is ORT's argmin without scoring it (most tensors: 1 of ~960)
  if (near.length === 1) return clampedRange(h, near[0]! + half, new Float32Array(fast));
  const prefix = prefixSums(hist);
  const b = buffers(hist.length, numQuantizedBins);
  let best = -1;
  let bestDiv = Infinity;
  for (const k of near) {
    const div = exactDivergence(hist, prefix, k + half, numQuantizedBins, b);
    // ascending k: a strict < keeps the first minimum, as np.argmin does
    if (best < 0 || div < bestDiv) {
      best = k;
      bestDiv = div;
    }
  }
  return clampedRange(h, best + half, new Float32Array(fast));
}
