/**
 * Entropy (KL divergence) calibration, onnxruntime's algorithm (calibrate.py:
 * HistogramCollector.get_entropy_threshold) on the value histogram: for each candidate i from
 * nq/2 to n/2, keep bins [n/2 - i, n/2 + i], fold the outliers into the end bins (p), merge the slice
 * into nq bins and spread each back over its run with integer (truncated) averages of the non-zero count (q),
 * smooth both (eps 1e-4) and take the candidate with the least KL(p || q) in float32; clamp to the data.
 * With ORT's defaults (128 bins, 128 quantized bins) one candidate exists, so it equals min-max:
 * Quantscope defaults to 2048 bins, which searches.
 */
import type { HistogramState } from '../histogram';
import { histogramEdges, histogramRange } from '../histogram';
import { f32 } from '../rounding';
import type { Range } from './percentile';

/** quant_utils.smooth_distribution: move eps of mass onto the empty bins. Null when all are empty. */
function smooth(p: Float64Array, eps = 0.0001): Float32Array | null {
  let zeros = 0;
  for (const v of p) if (v === 0) zeros++;
  const nonzeros = p.length - zeros;
  if (!nonzeros) return null;
  const eps1 = f32((eps * zeros) / nonzeros);
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = f32(f32(p[i]!) + (p[i] === 0 ? f32(eps) : -eps1));
  return out;
}

/** numpy's pairwise sum of float32 values (blocks of 8 unrolled, 128-element leaves), in float32. */
function pairwiseSum32(a: Float32Array, start: number, n: number): number {
  if (n < 8) {
    let s = 0;
    for (let i = 0; i < n; i++) s = f32(s + a[start + i]!);
    return s;
  }
  if (n <= 128) {
    const r = [a[start]!, a[start + 1]!, a[start + 2]!, a[start + 3]!, a[start + 4]!, a[start + 5]!, a[start + 6]!, a[start + 7]!];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let k = 0; k < 8; k++) r[k] = f32(r[k]! + a[start + i + k]!);
    let res = f32(f32(f32(r[0]! + r[1]!) + f32(r[2]! + r[3]!)) + f32(f32(r[4]! + r[5]!) + f32(r[6]! + r[7]!)));
    for (; i < n; i++) res = f32(res + a[start + i]!);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return f32(pairwiseSum32(a, start, n2) + pairwiseSum32(a, start + n2, n - n2));
}

/** The local `entropy(p, q)` of calibrate.py: both normalised in float32, Σ p log(p / q). */
function klDivergence(p: Float32Array, q: Float32Array): number {
  const sp = pairwiseSum32(p, 0, p.length);
  const sq = pairwiseSum32(q, 0, q.length);
  const terms = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const pi = f32(p[i]! / sp);
    const qi = f32(q[i]! / sq);
    if (pi === 0 && qi >= 0) terms[i] = 0;
    else if (pi > 0 && qi > 0) terms[i] = f32(pi * f32(Math.log(f32(pi / qi))));
    else terms[i] = Infinity;
  }
  return pairwiseSum32(terms, 0, terms.length);
}

export interface EntropyResult extends Range {
  /** KL divergence per candidate (index i - nq/2), for drawing the search. */
  readonly divergences: Float32Array;
}

export function entropyRangeOrt(h: HistogramState, numQuantizedBins = 128): EntropyResult {
  const hist = h.counts;
  const n = hist.length;
  const [lo, hi] = histogramRange(h);
  const edges = histogramEdges(lo, hi, n);
  const zero = Math.floor(n / 2);
  const half = Math.floor(numQuantizedBins / 2);
  const count = zero - half + 1;
  const divergences = new Float32Array(Math.max(count, 0));
  let best = 0;
  for (let i = half; i <= zero; i++) {
    const start = zero - i;
    const end = Math.min(zero + i + 1, n);
    const slice = hist.subarray(start, end);
    const p = Float64Array.from(slice);
    for (let k = 0; k < start; k++) p[0]! += hist[k]!;
    for (let k = end; k < n; k++) p[p.length - 1]! += hist[k]!;
    const merged = Math.floor(slice.length / numQuantizedBins);
    const qb = new Float64Array(numQuantizedBins);
    for (let b = 0; b < numQuantizedBins; b++) for (let k = b * merged; k < (b + 1) * merged; k++) qb[b]! += slice[k]!;
    for (let k = numQuantizedBins * merged; k < slice.length; k++) qb[numQuantizedBins - 1]! += slice[k]!;
    const q = new Float64Array(p.length);
    for (let b = 0; b < numQuantizedBins; b++) {
      let norm = 0;
      for (let k = b * merged; k < (b + 1) * merged; k++) if (p[k] !== 0) norm++;
      // ORT assigns the truncated average to every position of the merged run (zeros included).
      if (norm) for (let k = b * merged; k < (b + 1) * merged; k++) q[k] = Math.trunc(qb[b]! / norm);
    }
    const ps = smooth(p);
    const qs = smooth(q);
    const div = ps && qs ? klDivergence(ps, qs) : Infinity;
    divergences[i - half] = div;
    if (div < divergences[best]!) best = i - half;
  }
  const i = best + half;
  let rmin = edges[zero - i]!;
  let rmax = edges[Math.min(zero + i + 1, n)]!;
  if (rmin < h.min) rmin = h.min;
  if (rmax > h.max) rmax = h.max;
  return { rmin, rmax, divergences };
}
