/**
 * The calibration methods a tensor's range can come from, over the statistics the calibration keeps
 * (exact min/max and the value histogram). min-max is onnxruntime's default; percentile and entropy
 * follow onnxruntime's HistogramCollector on the value histogram (entropy searches with the
 * histogram's own bin count and 128 quantized bins); mse is PyTorch HistogramObserver's L2 search.
 */
import type { HistogramState } from '../histogram';
import type { MinMaxState } from '../minmax';
import { entropyRangeOrt } from './entropy';
import { mseRange } from './mse';
import { percentileRange, type Range } from './percentile';

export type RangeMethod = 'minmax' | 'percentile' | 'entropy' | 'mse';

export const RANGE_METHODS: readonly RangeMethod[] = ['minmax', 'percentile', 'entropy', 'mse'];

export interface MethodParams {
  /** Percentile kept, in percent (onnxruntime's default 99.999). */
  readonly percentile?: number;
  /** Quantized bins for the entropy search (onnxruntime's default 128). */
  readonly quantizedBins?: number;
}

/**
 * The entropy search costs O(bins²): a histogram that grew past `maxBins` is first merged into at most
 * `maxBins` bins of whole old bins, padded evenly so that zero stays at the centre bin edge. Up to
 * 2048 bins (every histogram that never grew) the search is onnxruntime's, exactly.
 */
export function coarsenHistogram(h: HistogramState, maxBins = 2048): HistogramState {
  const n = h.counts.length;
  if (n <= maxBins) return h;
  const f = Math.ceil(n / maxBins);
  let m = Math.ceil(n / f);
  if ((m * f - n) % 2) m++;
  const pad = (m * f - n) / 2;
  const counts = new Float64Array(m);
  for (let i = 0; i < n; i++) counts[Math.floor((i + pad) / f)]! += h.counts[i]!;
  return { ...h, counts, threshold: (h.threshold * (m * f)) / n };
}

export function methodRange(stats: { minmax: MinMaxState; histogram: HistogramState }, method: RangeMethod, params: MethodParams = {}): Range {
  switch (method) {
    case 'minmax':
      return { rmin: stats.minmax.min, rmax: stats.minmax.max };
    case 'percentile':
      return percentileRange(stats.histogram, params.percentile ?? 99.999);
    case 'entropy':
      return entropyRangeOrt(coarsenHistogram(stats.histogram), params.quantizedBins ?? 128);
    case 'mse':
      return mseRange(coarsenHistogram(stats.histogram));
  }
}
