/**
 * A sample as the .tflite file takes it, and its outputs as the ONNX model gives them: the check that
 * runs the file in TFLite's interpreter beside the float model (state/tfliteGuard.ts) feeds both the same
 * sample and compares the same numbers.
 */
import { QuantscopeError } from '../../../core/errors';
import { NHWC, permute, prod } from './layout';
import type { TfliteIo } from './types';

/** NHWC → NCHW: out dim i = in dim NHWC_TO_NCHW[i] (the inverse of layout.ts's NHWC). */
const NHWC_TO_NCHW = [0, 3, 1, 2] as const;

const INT8_MIN = -128;
const INT8_MAX = 127;

/**
 * TFLite's QUANTIZE, as its reference kernel computes it (tensorflow/lite/kernels/internal/reference/
 * quantize.h, AffineQuantize): round(x / scale) + zero point, rounded half away from zero (TfLiteRound,
 * std::round: not ONNX's half to even), saturated to int8. An int8-edged file fed this way computes what
 * the float-edged file computes after its own QUANTIZE.
 */
export function tfliteQuantize(x: number, scale: number, zeroPoint: number): number {
  const v = Math.fround(x / scale);
  const r = Math.sign(v) * Math.round(Math.abs(v));
  return Math.min(INT8_MAX, Math.max(INT8_MIN, r + zeroPoint));
}

/** Whether dims are the shape the file was written for (ONNX order). */
export function takesShape(io: TfliteIo, dims: readonly number[]): boolean {
  return dims.length === io.onnxShape.length && dims.every((d, i) => d === io.onnxShape[i]);
}

/** One input (ONNX layout, `dims`) as the file takes it: rank 4 NCHW → NHWC; int8 inputs quantized. */
export function tfliteInput(io: TfliteIo, data: ArrayLike<number>, dims: readonly number[]): Float32Array | Int8Array {
  if (!takesShape(io, dims))
    throw new QuantscopeError(
      'BAD_DATA',
      `input "${io.name}" is [${dims.join(', ')}]: the TFLite file takes [${io.onnxShape.join(', ')}]`,
    );
  const floats = Float32Array.from(data);
  const laid = dims.length === 4 ? permute(floats, dims, NHWC, (n) => new Float32Array(n)) : floats;
  if (io.type === 'float32') return laid;
  const out = new Int8Array(laid.length);
  for (let i = 0; i < laid.length; i++) out[i] = tfliteQuantize(laid[i]!, io.scale!, io.zeroPoint!);
  return out;
}

/** One output of the file in ONNX's layout, as float: rank 4 NHWC → NCHW; int8 outputs dequantized. */
export function onnxOutput(io: TfliteIo, data: ArrayLike<number>): Float32Array {
  if (data.length !== prod(io.shape))
    throw new QuantscopeError(
      'RUNTIME',
      `output "${io.name}" has ${data.length} values: the file declares [${io.shape.join(', ')}]`,
    );
  // (q - zero point) · scale, TFLite's DEQUANTIZE (reference/dequantize.h)
  const floats =
    io.type === 'int8'
      ? Float32Array.from(data, (q) => Math.fround((q - io.zeroPoint!) * io.scale!))
      : Float32Array.from(data);
  return io.shape.length === 4 ? permute(floats, io.shape, NHWC_TO_NCHW, (n) => new Float32Array(n)) : floats;
}
