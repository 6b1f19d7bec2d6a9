/**
 * `quantscope range`: one tensor's range and quantization parameters by a calibration method, as
 * onnxruntime's (or PyTorch's) calibrator computes it on that tensor given in one call. Pure: the
 * command reads the file, this computes.
 */
import { createAbsHistogram, updateAbsHistogram } from '../core/absHistogram';
import { quantParams } from '../core/conventions';
import type { IntDType } from '../core/dtype';
import { createHistogram } from '../core/histogram';
import { updateHistogram } from '../core/histogramFold';
import { distribution, methodRange, type MethodStats } from '../core/methods';
import { createMinMax, updateMinMax } from '../core/minmax';
import { channelRanges } from '../core/weights';

export const RANGE_COMMAND_METHODS = [
  'minmax',
  'moving-average',
  'percentile',
  'entropy',
  'mse',
  'distribution',
] as const;
export type RangeCommandMethod = (typeof RANGE_COMMAND_METHODS)[number];

export interface TensorRangeOptions {
  readonly method: RangeCommandMethod;
  readonly dtype: IntDType;
  readonly symmetric: boolean;
  readonly reduceRange: boolean;
  readonly convention: 'onnxruntime' | 'pytorch';
  /** Histogram bins (onnxruntime's num_bins; default 2048). */
  readonly bins: number;
  readonly percentile?: number;
  readonly quantizedBins?: number;
  /** Per-channel min/max along this axis instead of one range. */
  readonly perChannelAxis?: number;
  /** The tensor's name in error messages. */
  readonly name?: string;
}

export interface TensorRangeResult {
  readonly rmin: number;
  readonly rmax: number;
  readonly scale: number;
  readonly zeroPoint: number;
  readonly avg?: number;
  readonly std?: number;
  readonly dtype?: string;
}

export interface ChannelRangesResult {
  readonly rmin: number[];
  readonly rmax: number[];
  readonly scale: number[];
  readonly zeroPoint: number[];
}

/**
 * The statistics onnxruntime's calibrator keeps for a tensor collected in one call. The symmetric
 * percentile gets onnxruntime's own |x| histogram (collect_absolute_value: 2048 bins over
 * [min|x|, max|x|]), not one folded from the value histogram, so its threshold is onnxruntime's exactly.
 */
function oneCallStats(x: Float32Array, o: TensorRangeOptions): MethodStats {
  const minmax = updateMinMax(createMinMax(), x);
  const absPercentile = o.method === 'percentile' && o.symmetric;
  return {
    minmax,
    // the symmetric percentile reads only the |x| histogram (a value histogram may not even exist:
    // float32's extremes overflow its width, which onnxruntime's |x| histogram never spans)
    histogram: absPercentile ? createHistogram(o.bins) : updateHistogram(createHistogram(o.bins), x),
    // one call is one batch: its extremes are the tensor's (a loop, never Math.min(...x), which
    // overflows the engine's argument limit on a large tensor)
    batchMin: Float32Array.of(minmax.min),
    batchMax: Float32Array.of(minmax.max),
    ...(absPercentile ? { abs: updateAbsHistogram(createAbsHistogram(), x, o.bins, o.name ?? 'tensor') } : {}),
  };
}

export function tensorRange(x: Float32Array, o: TensorRangeOptions): TensorRangeResult {
  const qopts = { symmetric: o.symmetric, reduceRange: o.reduceRange, convention: o.convention } as const;
  if (o.method === 'distribution') {
    // onnxruntime's distribution calibrator: mean and std of the histogram, and the float8 E4M3FN
    // scale std / std(E4M3FN values), zero point 0; the range is the histogram's [-t, t]
    const h = updateHistogram(createHistogram(o.bins), x);
    const d = distribution(h);
    return {
      rmin: -h.threshold,
      rmax: h.threshold,
      scale: d.e4m3fnScale,
      zeroPoint: 0,
      avg: d.avg,
      std: d.std,
      dtype: 'float8e4m3fn',
    };
  }
  const stats = oneCallStats(x, o);
  const r = methodRange(stats, o.method, {
    percentile: o.percentile,
    quantizedBins: o.quantizedBins,
    entropyBins: o.bins,
    percentileTails: o.symmetric ? 'abs' : 'both',
  });
  const p = quantParams(r.rmin, r.rmax, o.dtype, qopts);
  return { rmin: r.rmin, rmax: r.rmax, scale: p.scale, zeroPoint: p.zeroPoint };
}

export function tensorChannelRanges(
  x: Float32Array,
  shape: readonly number[],
  axis: number,
  o: Pick<TensorRangeOptions, 'dtype' | 'symmetric' | 'reduceRange' | 'convention'>,
): ChannelRangesResult {
  const { mins, maxs } = channelRanges(x, [...shape], axis);
  const out: ChannelRangesResult = { rmin: [], rmax: [], scale: [], zeroPoint: [] };
  mins.forEach((mn, c) => {
    const p = quantParams(mn, maxs[c]!, o.dtype, o);
    out.rmin.push(mn);
    out.rmax.push(maxs[c]!);
    out.scale.push(p.scale);
    out.zeroPoint.push(p.zeroPoint);
  });
  return out;
}
