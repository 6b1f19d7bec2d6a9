/**
 * What a clipping range costs on a tensor, estimated from its histogram: every bin's count placed at
 * the bin centre, quantized and dequantized with the range's scale and zero point. Clipping error
 * (values outside the range saturate) and rounding error (values inside land on the grid) are both
 * counted. Exact up to the bin width, and cheap enough to redo while a user drags a range.
 */
import { DTYPES, type IntDType } from '../dtype';
import { histogramRange, type HistogramState } from '../histogram';
import { quantizeValue } from '../quantize';
import { quantParams, quantRangeFor, type QParamOptions } from '../conventions';

export interface RangeError {
  readonly mse: number;
  /** 10 log10(Σ x² / Σ (x - x̂)²) in dB; Infinity when exact. */
  readonly sqnrDb: number;
  readonly scale: number;
  readonly zeroPoint: number;
}

const ROUNDER = 6755399441055744; // 1.5·2^52
const ROUND_LIMIT = 2251799813685248; // 2^51

/**
 * Σ c·x², Σ c·(x - x̂)² and Σ c over the non-empty bins, x each bin's centre and x̂ its
 * DequantizeLinear(QuantizeLinear(x)) in float32: quantizeValue's steps (x / scale in float32, round
 * half to even, + zero point, saturate with NaN to 0) written out in one loop with the dtype's bounds
 * hoisted, the same operations in the same order, so the same bits (rangeError.test.ts pins them to
 * quantizeValue); the page redoes this for every method of every tensor.
 */
function binErrorSums(
  h: HistogramState,
  scale: number,
  zeroPoint: number,
  qmin: number,
  qmax: number,
): { signal: number; noise: number; total: number } {
  const counts = h.counts;
  const n = counts.length;
  const [lo, hi] = histogramRange(h);
  const w = (hi - lo) / n;
  let signal = 0;
  let noise = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    const x = lo + (i + 0.5) * w;
    const v = Math.fround(x / scale);
    // round half to even without a branch on the fraction (the CPU mispredicts it bin after bin): for
    // |v| < 2^51, v + 1.5·2^52 lands where float64's spacing is 1, so the addition itself rounds v to
    // the nearest integer, ties to even (1.5·2^52 is even), and subtracting it back is exact. Larger v
    // (already whole), ±Infinity and NaN take the plain rule.
    let r = v;
    if (v < ROUND_LIMIT && v > -ROUND_LIMIT) r = v + ROUNDER - ROUNDER;
    else if (v - v === 0) {
      const floor = Math.floor(v);
      const diff = v - floor;
      r = diff < 0.5 ? floor : diff > 0.5 ? floor + 1 : floor % 2 === 0 ? floor : floor + 1;
    }
    let q = r + zeroPoint;
    q = q !== q ? 0 : q < qmin ? qmin : q > qmax ? qmax : q;
    const d = x - Math.fround((q - zeroPoint) * scale);
    signal += c * x * x;
    noise += c * d ** 2;
    total += c;
  }
  return { signal, noise, total };
}

export function histogramRangeError(
  h: HistogramState,
  rmin: number,
  rmax: number,
  dtype: IntDType,
  opts: QParamOptions | boolean,
): RangeError {
  const p = quantParams(rmin, rmax, dtype, typeof opts === 'boolean' ? { symmetric: opts } : opts);
  const { signal, noise, total } = binErrorSums(h, p.scale, p.zeroPoint, DTYPES[dtype].min, DTYPES[dtype].max);
  return {
    mse: total ? noise / total : 0,
    sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(signal / noise),
    scale: p.scale,
    zeroPoint: p.zeroPoint,
  };
}

export interface CodeUsage {
  readonly qmin: number;
  readonly qmax: number;
  /** The codes the data's own min and max land on (after clipping). */
  readonly usedLow: number;
  readonly usedHigh: number;
  /** Codes of the range that no value can reach. */
  readonly wasted: number;
  readonly total: number;
}

/**
 * How many of a choice's integer codes the data can reach: a symmetric range over ReLU output, for
 * one, leaves every negative code unused.
 */
export function codeUsage(
  rmin: number,
  rmax: number,
  dataMin: number,
  dataMax: number,
  dtype: IntDType,
  opts: QParamOptions,
): CodeUsage {
  const p = quantParams(rmin, rmax, dtype, opts);
  const { qmin, qmax } = quantRangeFor(dtype, opts);
  const clamp = (q: number) => Math.min(qmax, Math.max(qmin, q));
  const usedLow = clamp(quantizeValue(dataMin, p.scale, p.zeroPoint, dtype));
  const usedHigh = clamp(quantizeValue(dataMax, p.scale, p.zeroPoint, dtype));
  const total = qmax - qmin + 1;
  return { qmin, qmax, usedLow, usedHigh, wasted: total - (usedHigh - usedLow + 1), total };
}
