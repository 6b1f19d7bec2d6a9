/**
 * The guard rail for an export too large to run here: instead of comparing the models' outputs on
 * samples, each quantized weight is compared with its float self, tensor by tensor: SQNR of the float
 * weight against the dequantized one, 10 log10(Σw² / Σ(w - ŵ)²) (the quantity onnxruntime's
 * qdq_loss_debug reports per weight, onnxruntime/python/tools/quantization/qdq_loss_debug.py
 * compute_weight_error). Pure: one weight's values at a time, never the model.
 *
 * The verdict is the worst weight's SQNR against a target, 20 dB by default, the output SQNR default
 * (core/guard.ts) and for the same reason: a tensor whose noise power is a hundredth of its signal
 * still carries its information. Measured on PP-OCRv4 rec's 47 quantized weights (weight-only,
 * `quantscope quantize --external-data`): int8 per channel, worst 30.5 dB (passes); int4 in blocks of
 * 32 on every weight, Conv included, worst 16.1 dB; int4 per channel (the issue's file that reads
 * nothing), worst 10.9 dB (both miss). Int8 per channel cannot fall below ~10 log10(4·127²/n) dB on a
 * channel of n values (each error at most half a step of max/127): 30 dB at n = 64, so the target
 * speaks up for 4-bit weights and pathological int8 ones, not for ordinary int8 files.
 */
import { QuantscopeError } from './errors';
import { axisGeometry } from './quantize';
import { EMPTY_SUMS, foldErrorSums, sumsSqnr } from './errorSums';
import type { GuardVerdict } from './guard';

/** The worst weight's SQNR an export must keep, in dB. */
export const DEFAULT_WEIGHT_SQNR_DB = 20;

/** How many of the worst weights a verdict names. */
export const WORST_NAMED = 5;

/**
 * DequantizeLinear (onnx/docs/Operators.md, DequantizeLinear-21): y = (q - zero_point) * scale, with
 * one scale for the tensor, one per index along `axis` (1-D scale), or one per block of `blockSize`
 * along `axis` (scale shaped as q with that axis divided by blockSize, rounded up).
 */
export function dequantizeWeight(
  q: ArrayLike<number>,
  dims: readonly number[],
  scales: ArrayLike<number>,
  zeroPoints: ArrayLike<number> | null,
  axis: number,
  blockSize: number,
): Float32Array {
  const out = new Float32Array(q.length);
  if (scales.length === 1) {
    const s = scales[0]!;
    const z = zeroPoints ? zeroPoints[0]! : 0;
    for (let i = 0; i < q.length; i++) out[i] = (q[i]! - z) * s;
    return out;
  }
  const { outer, channels, inner } = axisGeometry(dims, axis);
  const perAxis = blockSize > 0 ? Math.ceil(channels / blockSize) : channels;
  if (scales.length !== (blockSize > 0 ? outer * perAxis * inner : channels))
    throw new QuantscopeError(
      'BAD_TENSOR',
      `${scales.length} scales do not fit a weight of dims [${dims.join(', ')}] on axis ${axis}${blockSize > 0 ? ` in blocks of ${blockSize}` : ''}`,
    );
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const k = blockSize > 0 ? (o * perAxis + Math.floor(c / blockSize)) * inner + i : c;
        out[base + i] = (q[base + i]! - (zeroPoints ? zeroPoints[k]! : 0)) * scales[k]!;
      }
    }
  return out;
}

/** One quantized weight's error: float against dequantized. */
export interface WeightError {
  readonly tensor: string;
  /** The node reading it. */
  readonly node: string;
  readonly sqnrDb: number;
}

export function weightError(
  tensor: string,
  node: string,
  float: ArrayLike<number>,
  dq: ArrayLike<number>,
): WeightError {
  return { tensor, node, sqnrDb: sumsSqnr(foldErrorSums(EMPTY_SUMS, float, dq)) };
}

/** The guard's verdict from every quantized weight's error: the worst one against the target. */
export function judgeWeights(errors: readonly WeightError[], targetDb: number, source: string): GuardVerdict {
  const sorted = [...errors].sort((a, b) => a.sqnrDb - b.sqnrDb);
  const worst = sorted[0];
  return {
    output: worst?.tensor ?? '(none)',
    metric: 'weight SQNR',
    value: worst?.sqnrDb ?? Infinity,
    target: targetDb,
    passed: (worst?.sqnrDb ?? Infinity) >= targetDb,
    samples: 0,
    source,
    worst: sorted.slice(0, WORST_NAMED),
  };
}
