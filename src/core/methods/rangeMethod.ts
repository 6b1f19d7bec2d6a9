/**
 * The calibration methods a tensor's range can come from, over the statistics calibration keeps
 * (exact min/max, each sample's min/max, the value histogram, and in the onnxruntime-exact mode a
 * |x| histogram), each named for the tool whose algorithm it is:
 *  - minmax: onnxruntime's default;
 *  - moving-average: onnxruntime's (the mean of per-sample extremes, one calibration pass) or
 *    PyTorch's (EMA per sample, constant 0.01);
 *  - percentile: onnxruntime's; by default its symmetric form on |x| (ORT's default symmetric=True),
 *    or cutting both tails of the value histogram;
 *  - entropy: onnxruntime's KL search (on 2048 bins by default, which searches; ORT's own default of
 *    128 bins leaves one candidate and so equals min-max, offered to show that) or TensorRT's (|x|,
 *    candidates from bin 128, 128 levels);
 *  - mse: PyTorch HistogramObserver's L2 search.
 */
import { absFromValueHistogram, type AbsHistogramState } from '../absHistogram';
import { QuantscopeError } from '../errors';
import type { HistogramState } from '../histogram';
import type { MinMaxState } from '../minmax';
import { entropyRangeOrt } from './entropy';
import { entropyRangeTensorRT } from './entropyTensorRTFast';
import { ortPassRangeOf, torchMovingAverageOf } from './movingAverage';
import { mseRange } from './mse';
import { torchHistogramRange, type TorchHistogramState } from '../torchHistogram';
import { percentileRange, percentileRangeSymmetric, type Range } from './percentile';

export type RangeMethod = 'minmax' | 'moving-average' | 'percentile' | 'entropy' | 'mse';

export const RANGE_METHODS: readonly RangeMethod[] = ['minmax', 'moving-average', 'percentile', 'entropy', 'mse'];

export interface MethodParams {
  /** Percentile kept, in percent (onnxruntime's default 99.999). */
  readonly percentile?: number;
  /** `abs`: onnxruntime's default symmetric form on |x|; `both`: cut (100 - p)/2 from each tail. */
  readonly percentileTails?: 'abs' | 'both';
  /** Whose entropy search (default onnxruntime's). */
  readonly entropy?: 'onnxruntime' | 'tensorrt';
  /** Bins onnxruntime's entropy search runs on (default 2048; 128 is ORT's own default). */
  readonly entropyBins?: number;
  /** Quantized bins for onnxruntime's entropy search (its default 128). */
  readonly quantizedBins?: number;
  /** Whose moving average (default onnxruntime's). */
  readonly movingAverage?: 'onnxruntime' | 'pytorch';
  /** PyTorch's EMA constant (default 0.01). */
  readonly averagingConstant?: number;
  /**
   * Which histogram the MSE search runs on (default Quantscope's value histogram); `pytorch`: PyTorch
   * HistogramObserver's own, grown exactly as it grows it (core/torchHistogram.ts), for exact scales.
   */
  readonly mseHistogram?: 'quantscope' | 'pytorch';
}

/** What calibration keeps for one tensor; `batchMin`/`batchMax` and `abs` are optional extras. */
export interface MethodStats {
  readonly minmax: MinMaxState;
  readonly histogram: HistogramState;
  /** Each sample's finite min and max, in calibration order. */
  readonly batchMin?: ArrayLike<number>;
  readonly batchMax?: ArrayLike<number>;
  /** onnxruntime's |x| histogram (two-pass mode); otherwise |x| is folded from the value histogram. */
  readonly abs?: AbsHistogramState;
  /** Set when the histogram could not be kept (a range too wide for float32). */
  readonly histogramError?: string;
  /** PyTorch HistogramObserver's state, when calibration was asked to keep it. */
  readonly torchHistogram?: TorchHistogramState;
}

/**
 * The entropy searches cost O(bins) a candidate: a histogram with more than `bins` bins (one that grew,
 * or a coarser search asked for) is merged by whole bins into between `bins` and 2·`bins` bins, padded
 * evenly so that zero stays at the centre bin edge. Up to 2048 bins (every histogram that never grew)
 * the default search is onnxruntime's, exactly.
 */
export function coarsenHistogram(h: HistogramState, bins = 2048): HistogramState {
  const n = h.counts.length;
  if (n <= bins) return h;
  const f = Math.floor(n / bins);
  let m = Math.ceil(n / f);
  if ((m * f - n) % 2) m++;
  const pad = (m * f - n) / 2;
  // f = 1 (fewer than 2·bins: most grown histograms) merges nothing: bin j is 0 + h.counts[j], the
  // same counts, so they are shared rather than copied (no caller writes them); the threshold keeps
  // its expression, whose rounding the ranges depend on. `counts` is written out as below: without it
  // V8 gave these objects a map of their own that deoptimized the entropy search ~200 times a pass
  if (f === 1) return { ...h, counts: h.counts, threshold: (h.threshold * (m * f)) / n };
  const counts = new Float64Array(m);
  // merged bin j holds bins [j·f - pad, (j + 1)·f - pad), added in order
  for (let j = 0; j < m; j++) {
    const to = Math.min(n, (j + 1) * f - pad);
    let sum = 0;
    for (let i = Math.max(0, j * f - pad); i < to; i++) sum += h.counts[i]!;
    counts[j] = sum;
  }
  return { ...h, counts, threshold: (h.threshold * (m * f)) / n };
}

export function absHistogramOf(stats: MethodStats): AbsHistogramState {
  return stats.abs ?? absFromValueHistogram(stats.histogram);
}

export function methodRange(stats: MethodStats, method: RangeMethod, params: MethodParams = {}): Range {
  if (stats.histogramError && method !== 'minmax' && method !== 'moving-average')
    throw new QuantscopeError('NON_FINITE', stats.histogramError);
  switch (method) {
    case 'minmax':
      return { rmin: stats.minmax.min, rmax: stats.minmax.max };
    case 'moving-average': {
      const mins = stats.batchMin;
      const maxs = stats.batchMax;
      if (!mins || !maxs || mins.length === 0)
        throw new QuantscopeError('NO_STATISTICS', 'moving average needs per-sample min/max: calibrate again');
      return (params.movingAverage ?? 'onnxruntime') === 'pytorch'
        ? torchMovingAverageOf(mins, maxs, params.averagingConstant ?? 0.01)
        : ortPassRangeOf(mins, maxs);
    }
    case 'percentile':
      return (params.percentileTails ?? 'abs') === 'abs'
        ? percentileRangeSymmetric(absHistogramOf(stats), params.percentile ?? 99.999)
        : percentileRange(stats.histogram, params.percentile ?? 99.999);
    case 'entropy':
      if (params.entropy === 'tensorrt') return entropyRangeTensorRT(absHistogramOf(stats));
      return entropyRangeOrt(
        coarsenHistogram(stats.histogram, params.entropyBins ?? 2048),
        params.quantizedBins ?? 128,
      );
    case 'mse':
      if (params.mseHistogram === 'pytorch') {
        if (!stats.torchHistogram)
          throw new QuantscopeError(
            'NO_STATISTICS',
            "PyTorch's HistogramObserver needs its own histogram: calibrate again with a PyTorch preset chosen",
          );
        return torchHistogramRange(stats.torchHistogram);
      }
      return mseRange(coarsenHistogram(stats.histogram));
  }
}

/**
 * A user's manual range, checked: finite, not inverted. A range that excludes zero is widened to
 * hold it (every convention forces 0 into the range, so that zero padding is exact); the caller
 * shows that note.
 */
export function checkManualRange(rmin: number, rmax: number): { range: Range; note?: string } {
  if (!Number.isFinite(rmin) || !Number.isFinite(rmax))
    throw new QuantscopeError('BAD_RANGE', `the range [${rmin}, ${rmax}] is not finite`);
  if (rmin > rmax)
    throw new QuantscopeError(
      'BAD_RANGE',
      `the range [${rmin}, ${rmax}] is inverted: its minimum is above its maximum`,
    );
  if (rmin > 0 || rmax < 0) {
    return {
      range: { rmin: Math.min(rmin, 0), rmax: Math.max(rmax, 0) },
      note: `[${rmin}, ${rmax}] excludes 0: quantization widens it to include 0`,
    };
  }
  return { range: { rmin, rmax } };
}
