/**
 * Error metrics between a reference (float) tensor and an approximation (dequantized, or a
 * quantized model's output). Accumulated in float64.
 */
import { QuantscopeError } from './errors';

function checkLengths(ref: ArrayLike<number>, approx: ArrayLike<number>): void {
  if (ref.length !== approx.length) {
    throw new QuantscopeError('BAD_TENSOR', `cannot compare tensors of ${ref.length} and ${approx.length} elements`);
  }
}

export function mse(ref: ArrayLike<number>, approx: ArrayLike<number>): number {
  checkLengths(ref, approx);
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = ref[i]! - approx[i]!;
    s += d * d;
  }
  return ref.length === 0 ? 0 : s / ref.length;
}

/** Signal-to-quantization-noise ratio in dB: 10 log10(Σref² / Σ(ref-approx)²). Infinity when exact. */
export function sqnr(ref: ArrayLike<number>, approx: ArrayLike<number>): number {
  checkLengths(ref, approx);
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const d = r - approx[i]!;
    signal += r * r;
    noise += d * d;
  }
  if (noise === 0) return Infinity;
  return 10 * Math.log10(signal / noise);
}

export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkLengths(a, b);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (na === 0 && nb === 0) return 1;
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}

export function maxAbsError(ref: ArrayLike<number>, approx: ArrayLike<number>): number {
  checkLengths(ref, approx);
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ref[i]! - approx[i]!);
    if (d > m || d !== d) m = d;
  }
  return m;
}

export interface ErrorReport {
  readonly sqnrDb: number;
  readonly cosine: number;
  readonly mse: number;
  readonly maxAbs: number;
}

export function compareTensors(ref: ArrayLike<number>, approx: ArrayLike<number>): ErrorReport {
  return {
    sqnrDb: sqnr(ref, approx),
    cosine: cosineSimilarity(ref, approx),
    mse: mse(ref, approx),
    maxAbs: maxAbsError(ref, approx),
  };
}

/** The median of a list of numbers (the upper one of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
