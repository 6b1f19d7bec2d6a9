/**
 * What a clipping range costs on a tensor, estimated from its histogram: every bin's count placed at
 * the bin centre, quantized and dequantized with the range's scale and zero point. Clipping error
 * (values outside the range saturate) and rounding error (values inside land on the grid) are both
 * counted. Exact up to the bin width, and cheap enough to redo while a user drags a range.
 */
import type { IntDType } from '../dtype';
import { histogramRange, type HistogramState } from '../histogram';
import { activationQParams } from '../qparams';
import { dequantizeLinear } from '../quantize';
import { quantizeValue } from '../quantize';

export interface RangeError {
  readonly mse: number;
  /** 10 log10(Σ x² / Σ (x - x̂)²) in dB; Infinity when exact. */
  readonly sqnrDb: number;
  readonly scale: number;
  readonly zeroPoint: number;
}

export function histogramRangeError(h: HistogramState, rmin: number, rmax: number, dtype: IntDType, symmetric: boolean): RangeError {
  const p = activationQParams(rmin, rmax, dtype, { symmetric });
  const n = h.counts.length;
  const [lo, hi] = histogramRange(h);
  const w = (hi - lo) / n;
  let signal = 0;
  let noise = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const c = h.counts[i]!;
    if (c === 0) continue;
    const x = lo + (i + 0.5) * w;
    const xq = dequantizeLinear([quantizeValue(x, p.scale, p.zeroPoint, dtype)], p.scale, p.zeroPoint)[0]!;
    signal += c * x * x;
    noise += c * (x - xq) ** 2;
    total += c;
  }
  return { mse: total ? noise / total : 0, sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(signal / noise), scale: p.scale, zeroPoint: p.zeroPoint };
}
