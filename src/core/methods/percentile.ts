/**
 * Percentile calibration on the value histogram, as onnxruntime's HistogramCollector.compute_percentile
 * does it for symmetric=False (calibrate.py): cut (100 - p)/2 percent from each tail using the CDF
 * of the bins, take the bin edges numpy's searchsorted finds, then clamp each side to the data's
 * min/max independently (which can leave lo > hi on constant data, as in ORT).
 */
import type { HistogramState } from '../histogram';
import { histogramEdges, histogramRange } from '../histogram';
import { QuantscopeError } from '../errors';

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

export interface Range {
  readonly rmin: number;
  readonly rmax: number;
}

export function percentileRange(h: HistogramState, percentile = 99.999): Range {
  if (!(percentile >= 0 && percentile <= 100)) throw new QuantscopeError('BAD_RANGE', `percentile ${percentile} is not in [0, 100]`);
  if (h.total === 0) throw new QuantscopeError('NO_STATISTICS', 'the histogram is empty');
  const [lo, hi] = histogramRange(h);
  const edges = histogramEdges(lo, hi, h.counts.length);
  const cdf = histogramCdf(h.counts, h.total);
  const cut = (100 - percentile) / 200;
  let rmin = edges[searchSortedLeft(cdf, cut)]!;
  let rmax = edges[searchSortedLeft(cdf, 1 - cut)]!;
  if (rmin < h.min) rmin = h.min;
  if (rmax > h.max) rmax = h.max;
  return { rmin, rmax };
}
