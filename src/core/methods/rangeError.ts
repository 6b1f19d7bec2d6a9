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
 * The code bin i's centre x quantizes to: QuantizeLinear's steps (x / scale in float32, round half to
 * even, + zero point, saturate with NaN to 0) written out with the dtype's bounds hoisted, the same
 * operations in the same order as quantizeValue, so the same code (rangeError.test.ts pins the sums).
 */
function codeOf(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
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
  const q = r + zeroPoint;
  return q !== q ? 0 : q < qmin ? qmin : q > qmax ? qmax : q;
}

/**
 * Σ c·x², Σ c·(x - x̂)² and Σ c over the non-empty bins, x each bin's centre and x̂ its
 * DequantizeLinear(QuantizeLinear(x)) in float32, summed bin by bin in bin order.
 *
 * With a positive scale the code is non-decreasing in x (division by a positive number, rounding to
 * float32, rounding to an integer and saturation all are), and x grows with the bin index, so the bins
 * fall in runs of one code: a run's x̂ is taken once, and only the code at a run's ends is computed,
 * where its boundary (x / scale crossing r + 1/2) predicts it and the exact code confirms it. Each bin
 * still adds the same terms in the same order, so the sums are the same bits as quantizing bin by bin.
 * When the range holds more codes than a quarter of the bins (int16), runs are short and every bin's
 * code is taken in turn instead.
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
  // the two loops are two functions, so that V8 optimizes each on its own: one function holding both
  // was deoptimized whenever a tensor first took the other loop
  return scale > 0 && scale < Infinity && (hi - lo) / scale < n / 4
    ? sumsByRuns(counts, lo, w, scale, zeroPoint, qmin, qmax)
    : sumsByBin(counts, lo, w, scale, zeroPoint, qmin, qmax);
}

/** binErrorSums with every non-empty bin's code taken in turn. */
function sumsByBin(
  counts: Float64Array,
  lo: number,
  w: number,
  scale: number,
  zeroPoint: number,
  qmin: number,
  qmax: number,
): { signal: number; noise: number; total: number } {
  const n = counts.length;
  let signal = 0;
  let noise = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    const x = lo + (i + 0.5) * w;
    const d = x - Math.fround((codeOf(x, scale, zeroPoint, qmin, qmax) - zeroPoint) * scale);
    signal += c * x * x;
    noise += c * d ** 2;
    total += c;
  }
  return { signal, noise, total };
}

/**
 * binErrorSums by runs of one code (a positive, finite scale; bins under a quarter of a code wide). The
 * codes are codeOf's at the bin centres, called directly (a closure made a call was a new call target
 * for V8 each time, which deoptimized this loop).
 */
function sumsByRuns(
  counts: Float64Array,
  lo: number,
  w: number,
  scale: number,
  zeroPoint: number,
  qmin: number,
  qmax: number,
): { signal: number; noise: number; total: number } {
  const n = counts.length;
  let signal = 0;
  let noise = 0;
  let total = 0;
  const inv = 1 / scale;
  const invW = 1 / w;
  let q = codeOf(lo + 0.5 * w, scale, zeroPoint, qmin, qmax);
  for (let i = 0; i < n;) {
    // the run's end: the first bin past i whose code is not q, and that bin's code
    let end = n;
    let next = q;
    if (q < qmax) {
      // the next code starts where x / scale reaches b = r + 1/2 (r = q - zero point). x·(1/scale) is
      // within 2^-52 of x / scale, and rounding to float32 moves that by 2^-24 at most, so a bin centre
      // with x·(1/scale) below b - |b|·2^-20 keeps code q, and one above b + |b|·2^-20 has code q + 1
      // (not more: a bin is under a quarter of a code wide here); an estimate closer than that to b is
      // settled by the exact codes, stepping bin by bin (monotone: the first bin with another code is
      // unique)
      const b = q - zeroPoint + 0.5;
      const margin = Math.abs(b) * 9.5367431640625e-7; // 2^-20
      const guess = Math.ceil((b * scale - lo) * invW - 0.5);
      end = guess > i + 1 ? (guess < n ? guess : n) : i + 1;
      const before = end === i + 1 || (lo + (end - 0.5) * w) * inv < b - margin;
      const after = end < n ? (lo + (end + 0.5) * w) * inv : NaN;
      if (before && after > b + margin) next = q + 1;
      else if (!(before && end === n)) {
        while (end > i + 1 && codeOf(lo + (end - 0.5) * w, scale, zeroPoint, qmin, qmax) !== q) end--;
        while (end < n && (next = codeOf(lo + (end + 0.5) * w, scale, zeroPoint, qmin, qmax)) === q) end++;
      }
    }
    const xq = Math.fround((q - zeroPoint) * scale);
    if (xq - xq === 0) {
      // an empty bin adds exactly +0 to each sum (x and x̂ finite; the sums start at +0 and stay >= 0),
      // so no test for it: a branch in this loop costs more than the terms
      for (let k = i; k < end; k++) {
        const c = counts[k]!;
        const x = lo + (k + 0.5) * w;
        const d = x - xq;
        signal += c * x * x;
        noise += c * (d * d);
        total += c;
      }
    } else {
      for (let k = i; k < end; k++) {
        const c = counts[k]!;
        if (c === 0) continue;
        const x = lo + (k + 0.5) * w;
        const d = x - xq;
        signal += c * x * x;
        noise += c * (d * d);
        total += c;
      }
    }
    i = end;
    q = next;
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
