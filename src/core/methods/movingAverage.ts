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
  // numpy's nanmean over float32 values: the sum in float32, then divided.
  const mean = (xs: number[]) => {
    const v = xs.filter((x) => !Number.isNaN(x));
    return v.length ? f32(v.reduce((a, b) => f32(a + b), 0) / v.length) : NaN;
  };
  return { rmin: mean(batches.map((b) => b.min)), rmax: mean(batches.map((b) => b.max)) };
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
  let r: Range | null = null;
  for (const b of batches) {
    r =
      r === null
        ? { rmin: f32(b.min), rmax: f32(b.max) }
        : { rmin: f32(r.rmin + f32(c * f32(b.min - r.rmin))), rmax: f32(r.rmax + f32(c * f32(b.max - r.rmax))) };
  }
  if (!r) throw new Error('no batches');
  return r;
}
