/**
 * QuantizeLinear and DequantizeLinear, per tensor and per axis (onnx/docs/Operators.md):
 *   q = saturate(roundHalfToEven(x / scale) + zero_point)      (x / scale in float32, as ORT's MLAS divides)
 *   x' = (q - zero_point) * scale
 * Saturation is to the dtype's full range, whatever range the parameters were computed for.
 */
import { DTYPES, type IntDType } from './dtype';
import { QuantscopeError } from './errors';
import { f32, roundHalfToEven, saturate } from './rounding';

export type IntArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array;

/** The typed array that holds one element of `dtype` per slot (4-bit types unpacked, one per byte). */
export function allocInt(dtype: IntDType, length: number): IntArray {
  switch (dtype) {
    case 'int4':
    case 'int8':
      return new Int8Array(length);
    case 'uint4':
    case 'uint8':
      return new Uint8Array(length);
    case 'int16':
      return new Int16Array(length);
    case 'uint16':
      return new Uint16Array(length);
    case 'int32':
      return new Int32Array(length);
  }
}

/** Quantize one value. */
export function quantizeValue(x: number, scale: number, zeroPoint: number, dtype: IntDType): number {
  const info = DTYPES[dtype];
  return saturate(roundHalfToEven(f32(x / scale)) + zeroPoint, info.min, info.max);
}

export function quantizeLinear(x: Float32Array, scale: number, zeroPoint: number, dtype: IntDType): IntArray {
  const out = allocInt(dtype, x.length);
  for (let i = 0; i < x.length; i++) out[i] = quantizeValue(x[i]!, scale, zeroPoint, dtype);
  return out;
}

export function dequantizeLinear(q: ArrayLike<number>, scale: number, zeroPoint: number): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = (q[i]! - zeroPoint) * scale;
  return out;
}

/** Geometry of a per-axis operation over a row-major tensor: [outer, channels, inner]. */
export function axisGeometry(
  shape: readonly number[],
  axis: number,
): { outer: number; channels: number; inner: number } {
  const rank = shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw new QuantscopeError('BAD_TENSOR', `axis ${axis} is out of range for a rank-${rank} tensor`);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < a; i++) outer *= shape[i]!;
  for (let i = a + 1; i < rank; i++) inner *= shape[i]!;
  return { outer, channels: shape[a]!, inner };
}

/** Per-axis QuantizeLinear: one scale and zero point per index along `axis`. */
export function quantizeLinearPerAxis(
  x: Float32Array,
  shape: readonly number[],
  axis: number,
  scales: ArrayLike<number>,
  zeroPoints: ArrayLike<number>,
  dtype: IntDType,
): IntArray {
  const { outer, channels, inner } = axisGeometry(shape, axis);
  if (scales.length !== channels || zeroPoints.length !== channels) {
    throw new QuantscopeError('BAD_TENSOR', `expected ${channels} scales and zero points along axis ${axis}`);
  }
  const out = allocInt(dtype, x.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      const s = scales[c]!;
      const z = zeroPoints[c]!;
      for (let i = 0; i < inner; i++) out[base + i] = quantizeValue(x[base + i]!, s, z, dtype);
    }
  }
  return out;
}

export function dequantizeLinearPerAxis(
  q: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
  scales: ArrayLike<number>,
  zeroPoints: ArrayLike<number>,
): Float32Array {
  const { outer, channels, inner } = axisGeometry(shape, axis);
  const out = new Float32Array(q.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) out[base + i] = (q[base + i]! - zeroPoints[c]!) * scales[c]!;
    }
  }
  return out;
}

/** Pack 4-bit values two a byte, the first in the low nibble (onnx.proto: INT4/UINT4 packing). */
export function packInt4(q: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(q.length / 2));
  for (let i = 0; i < q.length; i++) out[i >> 1] = (out[i >> 1] ?? 0) | ((q[i]! & 0xf) << ((i & 1) * 4));
  return out;
}

export function unpackInt4(bytes: Uint8Array, count: number, signed: boolean): Int8Array | Uint8Array {
  const out = signed ? new Int8Array(count) : new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const nibble = (bytes[i >> 1]! >> ((i & 1) * 4)) & 0xf;
    out[i] = signed && nibble > 7 ? nibble - 16 : nibble;
  }
  return out;
}

/**
 * Quantize then dequantize one value onto an arbitrary integer grid [qmin, qmax] (any bit width, as
 * the lab and quantization-aware training need): (saturate(round_half_even(x / scale) + zp) - zp) * scale,
 * in float64.
 */
export function fakeQuantize(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  return (saturate(roundHalfToEven(x / scale) + zeroPoint, qmin, qmax) - zeroPoint) * scale;
}

/** The integer range of a bit width: signed [-2^(b-1), 2^(b-1) - 1], or [-(2^(b-1) - 1), ...] restricted; unsigned [0, 2^b - 1]. */
export function bitRange(bits: number, signed: boolean, restricted = false): { qmin: number; qmax: number } {
  if (!(bits >= 1 && bits <= 16 && Number.isInteger(bits)))
    throw new QuantscopeError('UNSUPPORTED_DTYPE', `a bit width must be an integer from 1 to 16, not ${bits}`);
  if (!signed) return { qmin: 0, qmax: 2 ** bits - 1 };
  const qmax = 2 ** (bits - 1) - 1;
  return { qmin: restricted && bits > 1 ? -qmax : -(2 ** (bits - 1)), qmax };
}
