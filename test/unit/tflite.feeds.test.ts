/**
 * A sample as a .tflite file takes it and its outputs back in ONNX's layout (onnx/forms/tflite/feeds.ts,
 * used by the page's check of a .tflite against the float model): NCHW ↔ NHWC element by element, int8
 * inputs quantized as TFLite's QUANTIZE kernel rounds (half away from zero, saturated), int8 outputs
 * dequantized.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isQuantscopeError } from '../../src/core/errors';
import { onnxOutput, takesShape, tfliteInput, tfliteQuantize } from '../../src/onnx/forms/tflite';
import type { TfliteIo } from '../../src/onnx/forms/tflite';
import { tflShape } from '../../src/onnx/forms/tflite';

const io = (onnxShape: number[], extra: Partial<TfliteIo> = {}): TfliteIo => ({
  name: 'x',
  shape: tflShape(onnxShape),
  onnxShape,
  type: 'float32',
  ...extra,
});

describe('tfliteQuantize: TFLite QUANTIZE (reference/quantize.h: TfLiteRound, then saturate)', () => {
  it('rounds halves away from zero, not to even', () => {
    // x / scale = ±0.5, ±1.5, ±2.5: std::round gives ±1, ±2, ±3 (half to even would give 0, ±2, ±2)
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5].map((x) => tfliteQuantize(x, 1, 0))).toEqual([1, 2, 3, -1, -2, -3]);
    expect(tfliteQuantize(0.25, 0.1, -3)).toBe(0); // 2.5 → 3, + (-3)
  });
  it('adds the zero point after rounding and saturates to int8', () => {
    expect(tfliteQuantize(1000, 1, 0)).toBe(127);
    expect(tfliteQuantize(-1000, 1, 0)).toBe(-128);
    expect(tfliteQuantize(126.4, 1, 5)).toBe(127);
    expect(tfliteQuantize(-0.4, 0.5, -128)).toBe(-128); // -0.8 → -1, then -1 - 128 = -129 saturates
  });
});

describe('tfliteInput / onnxOutput', () => {
  it('lays a rank-4 NCHW sample out as NHWC, element by element', () => {
    // [1, 2, 2, 3]: the value at (c, h, w) is c·6 + h·3 + w; NHWC puts it at (h·3 + w)·2 + c
    const dims = [1, 2, 2, 3];
    const nchw = Float32Array.from({ length: 12 }, (_, i) => i);
    const got = tfliteInput(io(dims), nchw, dims);
    const want = new Float32Array(12);
    for (let c = 0; c < 2; c++)
      for (let h = 0; h < 2; h++) for (let w = 0; w < 3; w++) want[(h * 3 + w) * 2 + c] = c * 6 + h * 3 + w;
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('gives a rank-4 NHWC output back in NCHW: the inverse of the input layout, for any shape', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 4, maxLength: 4 }), (dims) => {
        const n = dims.reduce((a, b) => a * b, 1);
        const x = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
        const back = onnxOutput(io(dims), tfliteInput(io(dims), x, dims));
        expect(Array.from(back)).toEqual(Array.from(x));
      }),
    );
  });

  it('leaves other ranks in their order', () => {
    const x = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(Array.from(tfliteInput(io([2, 3]), x, [2, 3]))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(onnxOutput(io([2, 3]), x))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('quantizes int8 inputs with the file’s scale and zero point, and dequantizes int8 outputs', () => {
    const q = io([1, 4], { type: 'int8', scale: 0.5, zeroPoint: -10 });
    const got = tfliteInput(q, Float32Array.of(0, 1.25, -0.25, 100), [1, 4]);
    expect(got).toBeInstanceOf(Int8Array);
    expect(Array.from(got)).toEqual([-10, -7, -11, 127]); // 2.5 → 3, -0.5 → -1, 200 saturates
    expect(Array.from(onnxOutput(q, Int8Array.of(-10, -7, -128, 127)))).toEqual([0, 1.5, -59, 68.5]);
  });

  it('refuses a sample of another shape, and an output of another size, in words', () => {
    expect(takesShape(io([1, 3, 8, 8]), [1, 3, 8, 8])).toBe(true);
    expect(takesShape(io([1, 3, 8, 8]), [1, 3, 8, 9])).toBe(false);
    let caught: unknown;
    try {
      tfliteInput(io([1, 3, 8, 8]), new Float32Array(3 * 8 * 9), [1, 3, 8, 9]);
    } catch (e) {
      caught = e;
    }
    expect(isQuantscopeError(caught) && caught.message).toBe(
      'input "x" is [1, 3, 8, 9]: the TFLite file takes [1, 3, 8, 8]',
    );
    expect(() => onnxOutput(io([1, 10]), new Float32Array(9))).toThrow(/9 values: the file declares \[1, 10\]/);
  });
});
