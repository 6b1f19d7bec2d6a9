/** Calibration flags shared by calibrate and quantize: --max-memory and --calibration-passes. */
import { numberFlag, flagValue, UsageError, type Args } from './args';

/** --max-memory SIZE (bytes, or with K/M/G: powers of 1024): what calibration may use; undefined: the machine's free memory. */
export function maxMemory(a: Args): number | undefined {
  const v = flagValue(a, 'max-memory');
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)i?B?$/i.exec(v.trim());
  if (!m || Number(m[1]) <= 0)
    throw new UsageError(`--max-memory ${v}: a size in bytes, or with K, M or G (e.g. 512M, 16G)`);
  return Math.floor(Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase()));
}

/** --calibration-passes N: calibrate in N sessions over subsets of the tensors (a model too large for one). */
export function calibrationPasses(a: Args): number {
  const n = numberFlag(a, 'calibration-passes') ?? 1;
  if (!(Number.isInteger(n) && n >= 1)) throw new UsageError(`--calibration-passes ${n}: a whole number, at least 1`);
  return n;
}
