/**
 * Calibration statistics → the ranges an export uses: the one place the page (state/exportSlice)
 * and the command line (cli) turn statistics into ranges, so both write the same bytes.
 *
 *  - A tensor that produced NaN or ±Infinity, or no finite value at all, gets null: it stays float and
 *    the export report names it (Quantscope never writes a NaN scale).
 *  - Otherwise its method's range under its settings (tensor, then producer op type, then model
 *    level: core/config.ts activationConfigFor), rounded to float32 as a recipe stores ranges, so
 *    an export rebuilt from a recipe is byte-identical.
 *  - The explorer's figures for every tensor (`calibratedMetrics`), computed off the page's thread by
 *    runtime/worker/ranges.worker.ts when the choices change.
 */
import { activationConfigFor, activationRange, DEFAULT_CONFIG, type QuantConfig } from './config';
import { absHistogramOf, histogramRangeError, type MethodStats, type Range } from './methods';
import { absPercentile } from './methods/percentile';
import { finalizeMinMax, isNonFinite } from './minmax';

export function calibratedRange(
  stats: MethodStats,
  tensor: string,
  config: QuantConfig = DEFAULT_CONFIG,
  producerOpType?: string,
): Range | null {
  if (isNonFinite(stats.minmax) || !finalizeMinMax(stats.minmax)) return null;
  const r = activationRange(stats, activationConfigFor(config, tensor, producerOpType));
  return { rmin: Math.fround(r.rmin), rmax: Math.fround(r.rmax) };
}

export function calibratedRanges(
  stats: Readonly<Record<string, MethodStats>>,
  config: QuantConfig = DEFAULT_CONFIG,
  producerOf: (tensor: string) => string | undefined = () => undefined,
): Map<string, Range | null> {
  const out = new Map<string, Range | null>();
  for (const [t, s] of Object.entries(stats)) out.set(t, calibratedRange(s, t, config, producerOf(t)));
  return out;
}

/** A tensor's sortable figures under the current choices (the explorer's list). */
export interface TensorMetrics {
  /** SQNR of the tensor's chosen range (estimated on its histogram), dB. */
  readonly sqnrDb: number;
  /** Width of the observed range. */
  readonly width: number;
  /** max|x| over the 99.99th percentile of |x|: how far the extremes sit from the bulk. */
  readonly outlierRatio: number;
}

/** One tensor's figures; null for a tensor that stays float (NaN/Inf, no finite value) or whose method fails. */
export function tensorMetrics(
  stats: MethodStats,
  tensor: string,
  config: QuantConfig = DEFAULT_CONFIG,
  producerOpType?: string,
): TensorMetrics | null {
  if (isNonFinite(stats.minmax) || stats.minmax.min > stats.minmax.max) return null;
  try {
    const act = activationConfigFor(config, tensor, producerOpType);
    const r = activationRange(stats, act);
    const err = histogramRangeError(stats.histogram, r.rmin, r.rmax, act.dtype, act);
    const amax = Math.max(Math.abs(stats.minmax.min), Math.abs(stats.minmax.max));
    const bulk = absPercentile(absHistogramOf(stats), 99.99);
    return {
      sqnrDb: err.sqnrDb,
      width: stats.minmax.max - stats.minmax.min,
      outlierRatio: bulk > 0 ? amax / bulk : amax > 0 ? Infinity : 1,
    };
  } catch {
    return null;
  }
}

/** Every tensor's figures: what the page's ranges worker answers when the choices change. */
export function calibratedMetrics(
  stats: Readonly<Record<string, MethodStats>>,
  config: QuantConfig = DEFAULT_CONFIG,
  producerOf: (tensor: string) => string | undefined = () => undefined,
): Record<string, TensorMetrics | null> {
  const out: Record<string, TensorMetrics | null> = {};
  for (const [t, s] of Object.entries(stats)) out[t] = tensorMetrics(s, t, config, producerOf(t));
  return out;
}
