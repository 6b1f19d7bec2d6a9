/**
 * The one dtype table. Every integer range, byte width and ONNX TensorProto.DataType code used
 * anywhere in Quantscope comes from here.
 *
 * ONNX codes: onnx/onnx.proto `TensorProto.DataType`.
 */
export type IntDType = 'int4' | 'uint4' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32';
export type FloatDType = 'float16' | 'bfloat16' | 'float32';
export type DType = IntDType | FloatDType;

export interface DTypeInfo {
  readonly name: DType;
  /** TensorProto.DataType code. */
  readonly onnx: number;
  readonly bits: number;
  readonly isInteger: boolean;
  readonly signed: boolean;
  /** Full representable integer range (integer types only; NaN for floats). */
  readonly min: number;
  readonly max: number;
}

function int(name: IntDType, onnx: number, bits: number, signed: boolean): DTypeInfo {
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return { name, onnx, bits, isInteger: true, signed, min, max };
}

function float(name: FloatDType, onnx: number, bits: number): DTypeInfo {
  return { name, onnx, bits, isInteger: false, signed: true, min: Number.NaN, max: Number.NaN };
}

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  int4: int('int4', 22, 4, true),
  uint4: int('uint4', 21, 4, false),
  int8: int('int8', 3, 8, true),
  uint8: int('uint8', 2, 8, false),
  int16: int('int16', 5, 16, true),
  uint16: int('uint16', 4, 16, false),
  int32: int('int32', 6, 32, true),
  float16: float('float16', 10, 16),
  bfloat16: float('bfloat16', 16, 16),
  float32: float('float32', 1, 32),
};

/** The integer types a tensor can be quantized to (int32 is for biases only). */
export const QUANT_DTYPES: readonly IntDType[] = ['int4', 'uint4', 'int8', 'uint8', 'int16', 'uint16'];

export function dtypeInfo(dtype: DType): DTypeInfo {
  return DTYPES[dtype];
}

export function dtypeFromOnnx(code: number): DType | undefined {
  return (Object.values(DTYPES) as DTypeInfo[]).find((d) => d.onnx === code)?.name;
}

/** Bytes one element takes when stored in a TensorProto (4-bit types pack two a byte). */
export function storageBytes(dtype: DType, count: number): number {
  const bits = DTYPES[dtype].bits;
  return bits === 4 ? Math.ceil(count / 2) : count * (bits / 8);
}
