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

/** Rows whose top-1 class agrees, and rows whose float top-1 is within the other's top-5. */
export interface TopKAgreement {
  readonly top1: number;
  readonly top5: number;
  readonly rows: number;
}

function topIndices(row: Float32Array, k: number): number[] {
  return Array.from(row.keys())
    .sort((a, b) => row[b]! - row[a]!)
    .slice(0, k);
}

/** Class-score agreement, for outputs shaped [N, C] with C >= 2 (a classifier's logits or probabilities). */
export function topKAgreement(x: Float32Array, y: Float32Array, dims: readonly number[]): TopKAgreement | null {
  if (dims.length !== 2 || dims[1]! < 2) return null;
  const [n, c] = [dims[0]!, dims[1]!];
  let top1 = 0;
  let top5 = 0;
  for (let r = 0; r < n; r++) {
    const a = x.subarray(r * c, (r + 1) * c);
    const b = y.subarray(r * c, (r + 1) * c);
    const ta = topIndices(a, 1)[0];
    const tb = topIndices(b, Math.min(5, c));
    if (ta === tb[0]) top1++;
    if (tb.includes(ta!)) top5++;
  }
  return { top1, top5, rows: n };
}
