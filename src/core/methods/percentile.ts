/**
 * Percentile calibration on the value histogram, as onnxruntime's HistogramCollector.compute_percentile
 * does it for symmetric=False (calibrate.py): cut (100 - p)/2 percent from each tail using the CDF
 * of the bins, take the bin edges numpy's searchsorted finds, then clamp each side to the data's
 * min/max independently (which can leave lo > hi on constant data, as in ORT).
 */
import type { AbsHistogramState } from '../absHistogram';
import type { HistogramState } from '../histogram';
import { histogramRange } from '../histogram';
import { histogramEdge } from './edges';
import { QuantscopeError } from '../errors';
import { f32 } from '../rounding';

/** numpy.searchsorted(a, v, side='left'): the first index with a[i] >= v. */
export function searchSortedLeft(a: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** cumsum(hist / total) in float64, as numpy computes it. */
export function histogramCdf(counts: Float64Array, total: number): Float64Array {
  const cdf = new Float64Array(counts.length);
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i]! / total;
    cdf[i] = acc;
  }
  return cdf;
}

/**
 * searchSortedLeft(histogramCdf(counts, total), v) for each v of `cuts` (ascending), in one pass that
 * stops at the last one: the same running sum (acc += count / total, in order), non-decreasing for a
 * positive total, compared as it grows, so the same indices without the CDF array (tests pin it to
 * the two steps).
 */
export function cdfCrossings(counts: Float64Array, total: number, cuts: readonly number[]): number[] {
  if (!(total > 0)) {
    // a CDF of NaN or ±Infinity is not increasing: the binary search decides, as before
    const cdf = histogramCdf(counts, total);
    return cuts.map((v) => searchSortedLeft(cdf, v));
  }
  const out: number[] = [];
  let acc = 0;
  let c = 0;
  const n = counts.length;
  for (let i = 0; i < n && c < cuts.length; i++) {
    acc += counts[i]! / total;
    while (c < cuts.length && acc >= cuts[c]!) {
      out.push(i);
      c++;
    }
  }
  while (c++ < cuts.length) out.push(n);
  return out;
}

export interface Range {
  readonly rmin: number;
  readonly rmax: number;
}

export function percentileRange(h: HistogramState, percentile = 99.999): Range {
  if (!(percentile >= 0 && percentile <= 100))
    throw new QuantscopeError('BAD_RANGE', `percentile ${percentile} is not in [0, 100]`);
  if (h.total === 0) throw new QuantscopeError('NO_STATISTICS', 'the histogram is empty');
  const [lo, hi] = histogramRange(h);
  const n = h.counts.length;
  const cut = (100 - percentile) / 200;
  const [low, high] = cdfCrossings(h.counts, h.total, [cut, 1 - cut]);
  let rmin = histogramEdge(lo, hi, n, low!);
  let rmax = histogramEdge(lo, hi, n, high!);
  if (rmin < h.min) rmin = h.min;
  if (rmax > h.max) rmax = h.max;
  return { rmin, rmax };
}

/**
 * Symmetric percentile (onnxruntime's default for this method, symmetric=True): the |x| edge where the
 * CDF of the |x| histogram reaches p, as (-e, e), then each side clamped to the data's min/max.
 */
export function percentileRangeSymmetric(h: AbsHistogramState, percentile = 99.999): Range {
  if (!(percentile >= 0 && percentile <= 100))
    throw new QuantscopeError('BAD_RANGE', `percentile ${percentile} is not in [0, 100]`);
  if (h.total === 0) throw new QuantscopeError('NO_STATISTICS', 'the histogram is empty');
  const e = absPercentile(h, percentile);
  let rmin = -e;
  let rmax = e;
  if (rmin < h.min) rmin = h.min;
  if (rmax > h.max) rmax = h.max;
  return { rmin, rmax };
}

/** The |x| histogram's edge where its CDF reaches p percent (numpy searchsorted, side left). */
export function absPercentile(h: AbsHistogramState, percentile: number): number {
  const [k] = cdfCrossings(h.counts, sumOf(h.counts), [percentile / 100]);
  return f32(h.edges[Math.min(k!, h.edges.length - 1)]!);
}

function sumOf(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}
