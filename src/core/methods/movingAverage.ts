/**
 * Moving-average min/max in both published forms, named as such:
 *  - onnxruntime (calibrate.py MinMaxCalibrater, moving_average=True): within one collect_data() pass,
 *    the arithmetic mean (nanmean) of the per-batch minima and maxima; across passes, EMA
 *    old + c (new - old) with c = 0.01.
 *  - PyTorch (MovingAverageMinMaxObserver): the first batch sets min/max, then EMA on every batch, in float32.
 */
import { f32 } from '../rounding';
import type { Range } from './percentile';

export interface BatchRange {
  readonly min: number;
  readonly max: number;
}

/** One ORT pass (call) over its batches: the mean of their extremes, NaN-ignoring as nanmean. */
export function ortPassRange(batches: readonly BatchRange[]): Range {
  return ortPassRangeOf(
    batches.map((b) => b.min),
    batches.map((b) => b.max),
  );
}

/** ortPassRange over each batch's minimum and maximum as two arrays (what calibration keeps). */
export function ortPassRangeOf(mins: ArrayLike<number>, maxs: ArrayLike<number>): Range {
  return { rmin: nanMean32(mins), rmax: nanMean32(maxs) };
}

/** numpy's nanmean over float32 values: the sum in float32 (from 0, in order), then divided. */
function nanMean32(xs: ArrayLike<number>): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (Number.isNaN(x)) continue;
    sum = f32(sum + x);
    count++;
  }
  return count ? f32(sum / count) : NaN;
}

/** ORT's merge_range across passes (moving average). */
export function ortMergeRange(old: Range | null, next: Range, c = 0.01): Range {
  if (!old) return next;
  return {
    rmin: f32(old.rmin + f32(c * f32(next.rmin - old.rmin))),
    rmax: f32(old.rmax + f32(c * f32(next.rmax - old.rmax))),
  };
}

/** PyTorch's per-batch EMA. */
export function torchMovingAverage(batches: readonly BatchRange[], c = 0.01): Range {
  return torchMovingAverageOf(
    batches.map((b) => b.min),
    batches.map((b) => b.max),
    c,
  );
}

/** torchMovingAverage over each batch's minimum and maximum as two arrays (what calibration keeps). */
export function torchMovingAverageOf(mins: ArrayLike<number>, maxs: ArrayLike<number>, c = 0.01): Range {
  if (mins.length === 0) throw new Error('no batches');
  let rmin = f32(mins[0]!);
  let rmax = f32(maxs[0]!);
  for (let i = 1; i < mins.length; i++) {
    rmin = f32(rmin + f32(c * f32(mins[i]! - rmin)));
    rmax = f32(rmax + f32(c * f32(maxs[i]! - rmax)));
  }
  return { rmin, rmax };
}
