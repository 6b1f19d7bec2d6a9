/**
 * Error metrics from running sums: a reference tensor (float) and an approximation (quantized) are
 * folded sample by sample into five float64 sums, and SQNR and cosine come from the sums alone, so
 * no activation is kept after its sample (onnxruntime's qdq_loss_debug keeps them all; this never
 * does). Sums over all samples equal the metric over the samples concatenated:
 *   SQNR = 10 log10(Σr² / Σ(r - a)²),   cosine = Σra / sqrt(Σr² Σa²).
 * Top-1 agreement along a class axis (the last axis, for [N, C] and [N, T, C] outputs) is counted
 * the same way: rows whose argmax agrees, over rows seen.
 */
import { QuantscopeError } from './errors';

export interface ErrorSums {
  /** Σ r², Σ a², Σ r·a, Σ (r - a)², elements folded. */
  readonly ref2: number;
  readonly approx2: number;
  readonly dot: number;
  readonly err2: number;
  readonly count: number;
  /** Elements where either side is NaN or infinite (left out of the sums). */
  readonly nonFinite: number;
}

export const EMPTY_SUMS: ErrorSums = { ref2: 0, approx2: 0, dot: 0, err2: 0, count: 0, nonFinite: 0 };

export function foldErrorSums(s: ErrorSums, ref: ArrayLike<number>, approx: ArrayLike<number>): ErrorSums {
  if (ref.length !== approx.length)
    throw new QuantscopeError('BAD_TENSOR', `cannot compare tensors of ${ref.length} and ${approx.length} elements`);
  let { ref2, approx2, dot, err2, nonFinite } = s;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const a = approx[i]!;
    if (!Number.isFinite(r) || !Number.isFinite(a)) {
      nonFinite++;
      continue;
    }
    const d = r - a;
    ref2 += r * r;
    approx2 += a * a;
    dot += r * a;
    err2 += d * d;
  }
  return { ref2, approx2, dot, err2, count: s.count + ref.length, nonFinite };
}

export function mergeErrorSums(a: ErrorSums, b: ErrorSums): ErrorSums {
  return {
    ref2: a.ref2 + b.ref2,
    approx2: a.approx2 + b.approx2,
    dot: a.dot + b.dot,
    err2: a.err2 + b.err2,
    count: a.count + b.count,
    nonFinite: a.nonFinite + b.nonFinite,
  };
}

/** SQNR in dB from the sums; Infinity when the approximation is exact, -Infinity for a zero reference. */
export function sumsSqnr(s: ErrorSums): number {
  if (s.err2 === 0) return Infinity;
  if (s.ref2 === 0) return -Infinity;
  return 10 * Math.log10(s.ref2 / s.err2);
}

export function sumsCosine(s: ErrorSums): number {
  if (s.ref2 === 0 && s.approx2 === 0) return 1;
  if (s.ref2 === 0 || s.approx2 === 0) return 0;
  return s.dot / Math.sqrt(s.ref2 * s.approx2);
}

/** The class axis of an output: its last axis when the shape is [N, C] or [N, T, C] with C >= 2; else null. */
export function classAxisSize(dims: readonly number[]): number | null {
  if (dims.length !== 2 && dims.length !== 3) return null;
  const c = dims[dims.length - 1]!;
  return c >= 2 ? c : null;
}

export interface Agreement {
  readonly agree: number;
  readonly rows: number;
}

export const EMPTY_AGREEMENT: Agreement = { agree: 0, rows: 0 };

function argmax(x: ArrayLike<number>, start: number, n: number): number {
  let best = start;
  for (let i = start + 1; i < start + n; i++) if (x[i]! > x[best]!) best = i;
  return best - start;
}

/** Rows of `classes` entries whose argmax agrees (first maximum wins, as numpy's argmax). */
export function foldAgreement(
  s: Agreement,
  ref: ArrayLike<number>,
  approx: ArrayLike<number>,
  classes: number,
): Agreement {
  if (ref.length !== approx.length || ref.length % classes !== 0)
    throw new QuantscopeError('BAD_TENSOR', `cannot compare ${ref.length} and ${approx.length} scores by ${classes}`);
  let agree = s.agree;
  const rows = ref.length / classes;
  for (let r = 0; r < rows; r++)
    if (argmax(ref, r * classes, classes) === argmax(approx, r * classes, classes)) agree++;
  return { agree, rows: s.rows + rows };
}

/**
 * Rows whose argmax in `ref` is the argmax in every one of `approxes` too (the written file's plain run
 * and its nudged runs, runtime/tune/nudge.ts): a row that any of them reads differently does not count.
 */
export function foldAgreementAll(
  s: Agreement,
  ref: ArrayLike<number>,
  approxes: readonly ArrayLike<number>[],
  classes: number,
): Agreement {
  for (const a of approxes)
    if (ref.length !== a.length || ref.length % classes !== 0)
      throw new QuantscopeError('BAD_TENSOR', `cannot compare ${ref.length} and ${a.length} scores by ${classes}`);
  let agree = s.agree;
  const rows = ref.length / classes;
  for (let r = 0; r < rows; r++) {
    const want = argmax(ref, r * classes, classes);
    if (approxes.every((a) => argmax(a, r * classes, classes) === want)) agree++;
  }
  return { agree, rows: s.rows + rows };
}

export function agreementRate(a: Agreement): number {
  return a.rows === 0 ? 1 : a.agree / a.rows;
}
