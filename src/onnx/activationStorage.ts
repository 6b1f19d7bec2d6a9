/**
 * How an activation's Q/DQ pair is stored in the file. Int8 activations in an opset-21 file are
 * written as uint8 with the zero point moved by 128, which is the same affine map:
 *   int8:  q = saturate(round(x / s) + z, -128, 127),  x' = (q - z) s
 *   uint8: q + 128 = saturate(round(x / s) + z + 128, 0, 255),  x' = ((q + 128) - (z + 128)) s
 * (ONNX QuantizeLinear-21: rounding happens before the zero point is added, so both round alike).
 *
 * Why: onnxruntime 1.30's CPU graph optimizer (ORT_ENABLE_EXTENDED and above) refuses opset-21 files
 * whose int8 activation DQ feeds a Reshape/Transpose/Squeeze/Unsqueeze/Slice: QDQPropagationTransformer
 * (onnxruntime/core/optimizer/qdq_transformer/qdq_propagation.cc) inserts a Q/DQ pair after the
 * Reshape that reads the DQ's int8 zero point, QDQS8ToU8Transformer (qdq_s8_to_u8.cc) then swaps that
 * pair's zero point for a uint8 one while the new QuantizeLinear-21 keeps output_dtype INT8, and type
 * inference fails ("output_dtype INT8 does not match y_zero_point type UINT8"). Opset-13 files and
 * uint8/int16 activations are untouched by this (measured on PP-OCRv4 rec: test/integration/
 * activationStorage.node.test.ts). onnxruntime converts int8 activations to uint8 on x86 itself, so
 * the kernels it runs are the ones it would have run.
 */
import type { IntDType } from '../core/dtype';

export interface StoredActivation {
  readonly dtype: IntDType;
  /** Added to the zero point (and to every stored code) of the chosen dtype. */
  readonly shift: number;
}

export function storedActivation(dtype: IntDType, opset21: boolean): StoredActivation {
  return opset21 && dtype === 'int8' ? { dtype: 'uint8', shift: 128 } : { dtype, shift: 0 };
}
