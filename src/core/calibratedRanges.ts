/**
 * Calibration statistics → the ranges an export uses: the one place the page (state/exportSlice)
 * and the command line (cli) turn statistics into ranges, so both write the same bytes.
 *
 *  - A tensor that produced NaN or ±Infinity, or no finite value at all, gets null: it stays float and
 *    the export report names it (Quantscope never writes a NaN scale).
 *  - Otherwise its method's range under its settings (tensor, then producer op type, then model
 *    level: core/config.ts activationConfigFor), rounded to float32 as a recipe stores ranges, so
 *    an export rebuilt from a recipe is byte-identical.
 */
import { activationConfigFor, activationRange, DEFAULT_CONFIG, type QuantConfig } from './config';
import type { MethodStats, Range } from './methods';
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
