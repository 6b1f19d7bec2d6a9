/**
 * Integer tensor bytes for export: values as little-endian integer bytes (4-bit packed), and the
 * count of initializer bytes stored as narrow integers.
 */
import { DTYPES, type IntDType } from '../core/dtype';
import { allocInt, packInt4 } from '../core/quantize';
import { bytesOf, type TensorProto } from './proto';
import { tensorByteSize } from './tensor';

/** Values as the little-endian bytes of `dtype` (4-bit types packed two a byte). */
export function intBytes(dtype: IntDType, data: ArrayLike<number>): Uint8Array {
  if (dtype === 'int4' || dtype === 'uint4') return packInt4(data);
  const typed = allocInt(dtype, data.length);
  for (let i = 0; i < data.length; i++) typed[i] = data[i]!;
  return bytesOf(typed);
}

const NARROW_INT_TYPES = new Set([DTYPES.int8.onnx, DTYPES.uint8.onnx, DTYPES.int4.onnx, DTYPES.uint4.onnx]);

/** Bytes of all initializers, and of those stored as 8-bit or narrower integers. */
export function initializerBytes(inits: readonly TensorProto[]): { intBytes: number; totalBytes: number } {
  let intBytes = 0;
  let totalBytes = 0;
  for (const t of inits) {
    const b = tensorByteSize(t);
    totalBytes += b;
    if (NARROW_INT_TYPES.has(t.dataType)) intBytes += b;
  }
  return { intBytes, totalBytes };
}
