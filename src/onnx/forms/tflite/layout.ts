/** Layout (NCHW ↔ NHWC), shape arithmetic and option enums shared by the ONNX → TFLite converters. */
import { QuantscopeError } from '../../../core/errors';
import type { NodeProto } from '../../proto';

export const NHWC = [0, 2, 3, 1] as const; // TFLite dim i holds ONNX dim NHWC[i]
const NCHW_TO_NHWC_AXIS = [0, 3, 1, 2] as const; // ONNX axis a is TFLite axis NCHW_TO_NHWC_AXIS[a]

export const tflShape = (s: readonly number[]): number[] => (s.length === 4 ? NHWC.map((i) => s[i]!) : [...s]);
export const tflAxis = (a: number, rank: number): number => {
  const ax = a < 0 ? a + rank : a;
  return rank === 4 ? NCHW_TO_NHWC_AXIS[ax]! : ax;
};
export const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
/** NHWC and NCHW hold a rank-4 tensor in the same memory order when C = 1 or H·W = 1. */
export const sameOrder = (s: readonly number[]): boolean => s.length !== 4 || s[1] === 1 || s[2]! * s[3]! === 1;

/** Permutes a row-major array of `shape` by `perm` (out dim i = in dim perm[i]). */
export function permute<T extends { length: number; [i: number]: number }>(
  data: T,
  shape: readonly number[],
  perm: readonly number[],
  make: (n: number) => T,
): T {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * shape[i + 1]!;
  const strides = perm.map((p) => inStrides[p]!);
  const out = make(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < data.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += idx[d]! * strides[d]!;
    out[o] = data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

export const hardSwish = (x: number): number => (x * Math.min(Math.max(x + 3, 0), 6)) / 6;

export function fail(node: NodeProto, why: string): never {
  throw new QuantscopeError('TFLITE_UNSUPPORTED', `node "${node.name}" (${node.opType}): ${why}`);
}

/** ONNX conv/pool padding as TFLite's SAME or VALID, or the explicit pads a PAD op must add first. */
export function padding(
  inHW: readonly number[],
  outHW: readonly number[],
  k: readonly number[],
  s: readonly number[],
  d: readonly number[],
  pads: readonly number[],
): { padding: 'SAME' | 'VALID'; explicit?: number[] } {
  if (pads.every((p) => p === 0)) return { padding: 'VALID' };
  // tensorflow/lite/kernels/padding.h: SAME gives out = ceil(in / s), total pad
  // max((out - 1) * s + (k - 1) * d + 1 - in, 0), the smaller half before.
  let same = true;
  for (let i = 0; i < 2; i++) {
    const ke = (k[i]! - 1) * d[i]! + 1;
    const total = Math.max((outHW[i]! - 1) * s[i]! + ke - inHW[i]!, 0);
    if (
      outHW[i] !== Math.ceil(inHW[i]! / s[i]!) ||
      pads[i] !== Math.floor(total / 2) ||
      pads[i + 2] !== total - pads[i]!
    )
      same = false;
  }
  return same ? { padding: 'SAME' } : { padding: 'VALID', explicit: [...pads] };
}

/** ONNX auto_pad SAME_UPPER / SAME_LOWER as explicit pads. */
export function samePads(inHW: number[], k: number[], s: number[], d: number[], lower: boolean): number[] {
  const pads = [0, 0, 0, 0];
  for (let i = 0; i < 2; i++) {
    const out = Math.ceil(inHW[i]! / s[i]!);
    const total = Math.max((out - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1 - inHW[i]!, 0);
    const small = Math.floor(total / 2);
    pads[i] = lower ? total - small : small;
    pads[i + 2] = total - pads[i]!;
  }
  return pads;
}

export function minMax(v: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

export const ACT: Record<string, number> = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3 };
export const PADDING = { SAME: 0, VALID: 1 } as const;

export const clampRange = (r: readonly [number, number], lo: number, hi: number): [number, number] => [
  Math.min(Math.max(r[0], lo), hi),
  Math.max(Math.min(r[1], hi), lo),
];
