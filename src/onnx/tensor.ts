/**
 * Reading tensor values out of TensorProto, every encoding ONNX allows for the types we use:
 * raw_data (little-endian, possibly at an unaligned offset in the file's buffer: always copied),
 * float_data, double_data, int32_data (which also carries 8/16-bit ints and float16 bits) and int64_data.
 */
import { halfToFloat } from '../core/float16';
import { QuantscopeError } from '../core/errors';
import { isExternal, storedByteLength, tensorBytes } from './externalData';
import { dimsOf, toInt, type TensorProto } from './proto';

export const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
  UINT4: 21,
  INT4: 22,
} as const;

const DT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(DT).map(([k, v]) => [v, k.toLowerCase()]));

export function dataTypeName(code: number): string {
  return DT_NAMES[code] ?? `type ${code}`;
}

export function elementCount(t: TensorProto): number {
  return dimsOf(t).reduce((a, b) => a * b, 1);
}

function rawView(t: TensorProto, width: number): DataView {
  const n = elementCount(t);
  // a lazy (external data) tensor is read from its file here, once: that read is already a copy
  const bytes = isExternal(t) ? tensorBytes(t) : t.rawData;
  if (bytes.length !== n * width) {
    throw new QuantscopeError(
      'BAD_TENSOR',
      `tensor "${t.name}" has ${bytes.length} raw bytes, expected ${n * width} for ${n} ${dataTypeName(t.dataType)} values`,
    );
  }
  const copy = isExternal(t) ? bytes : bytes.slice();
  return new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
}

/** Raw bytes, in raw_data or in an external data file. */
function hasRaw(t: TensorProto): boolean {
  return t.rawData.length > 0 || isExternal(t);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A float tensor (float32, float16, bfloat16 or double) as float32 values. */
export function readFloat32(t: TensorProto): Float32Array {
  const n = elementCount(t);
  const raw = hasRaw(t);
  switch (t.dataType) {
    case DT.FLOAT: {
      if (!raw) return checkCount(t, Float32Array.from(t.floatData), n);
      const v = rawView(t, 4);
      // the view is over a private copy: on a little-endian machine (every JS engine we run on) its
      // bytes are the float32 values already, 4-byte aligned (a fresh buffer)
      if (LITTLE_ENDIAN && v.byteOffset % 4 === 0) return new Float32Array(v.buffer, v.byteOffset, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(i * 4, true);
      return out;
    }
    case DT.DOUBLE: {
      if (!raw) return checkCount(t, Float32Array.from(t.doubleData), n);
      const v = rawView(t, 8);
      return Float32Array.from({ length: n }, (_, i) => v.getFloat64(i * 8, true));
    }
    case DT.FLOAT16:
    case DT.BFLOAT16: {
      const view = raw ? rawView(t, 2) : undefined;
      const bits = view ? Array.from({ length: n }, (_, i) => view.getUint16(i * 2, true)) : t.int32Data;
      const dec =
        t.dataType === DT.FLOAT16
          ? halfToFloat
          : (b: number) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]!;
      return checkCount(t, Float32Array.from(bits, dec), n);
    }
    default:
      throw new QuantscopeError(
        'UNSUPPORTED_DTYPE',
        `tensor "${t.name}" is ${dataTypeName(t.dataType)}, not a float type`,
      );
  }
}

/** An integer tensor's values as numbers (int64 converted with a range check). */
export function readInts(t: TensorProto): number[] {
  const n = elementCount(t);
  const raw = hasRaw(t);
  switch (t.dataType) {
    case DT.INT64: {
      if (!raw) return t.int64Data.map((v) => toInt(v, `tensor ${t.name}`));
      const v = rawView(t, 8);
      return Array.from({ length: n }, (_, i) => toInt(v.getBigInt64(i * 8, true), `tensor ${t.name}`));
    }
    case DT.INT32: {
      if (!raw) return [...t.int32Data];
      const v = rawView(t, 4);
      return Array.from({ length: n }, (_, i) => v.getInt32(i * 4, true));
    }
    default:
      throw new QuantscopeError(
        'UNSUPPORTED_DTYPE',
        `tensor "${t.name}" is ${dataTypeName(t.dataType)}, not int32/int64`,
      );
  }
}

function checkCount(t: TensorProto, data: Float32Array, n: number): Float32Array {
  if (data.length !== n)
    throw new QuantscopeError('BAD_TENSOR', `tensor "${t.name}" holds ${data.length} values, its dims say ${n}`);
  return data;
}

/** Bytes a tensor's payload takes, whatever its encoding. */
export function tensorByteSize(t: TensorProto): number {
  if (hasRaw(t)) return storedByteLength(t);
  const n = elementCount(t);
  const width: Record<number, number> = {
    1: 4,
    2: 1,
    3: 1,
    4: 2,
    5: 2,
    6: 4,
    7: 8,
    9: 1,
    10: 2,
    11: 8,
    12: 4,
    13: 8,
    16: 2,
  };
  if (t.dataType === DT.INT4 || t.dataType === DT.UINT4) return Math.ceil(n / 2);
  return n * (width[t.dataType] ?? 4);
}
