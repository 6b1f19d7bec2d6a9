/**
 * The convention options the page offers, against the reference kit's numbers: onnxruntime's
 * restricted symmetric range vs PyTorch's full one, the uint8 symmetric zero point, reduce_range, and
 * tiny-scale handling (ORT: scale 1 only below float32's tiny; PyTorch: clamped to 2^-23).
 */
import { describe, expect, it } from 'vitest';
import { quantParams, quantRangeFor } from '../../src/core/conventions';
import { num, referenceCases } from '../helpers/reference';

const cases = referenceCases();

describe('conventions', () => {
  it('symmetric int8: onnxruntime amax/127 on [-127, 127], PyTorch amax/127.5 on [-128, 127]', () => {
    const c = cases.gaussian!;
    const ortSym = c.ort.minmax_s8_sym!.result.qparams as { scale: number; zero_point: number };
    const [lo, hi] = (c.ort.minmax_s8_sym!.result.thresholds as unknown[]).map(num) as [number, number];
    expect(quantParams(lo, hi, 'int8', { symmetric: true }).scale).toBe(ortSym.scale);
    const torch = c.torch.minmax_qint8_symmetric!.result;
    expect(
      quantParams(num(torch.min_val), num(torch.max_val), 'int8', { symmetric: true, convention: 'pytorch' }).scale,
    ).toBe(num(torch.scale));
    expect(quantRangeFor('int8', { symmetric: true })).toEqual({ qmin: -127, qmax: 127 });
    expect(quantRangeFor('int8', { symmetric: true, convention: 'pytorch' })).toEqual({ qmin: -128, qmax: 127 });
  });

  it('symmetric uint8: onnxruntime zero point 127, PyTorch 128', () => {
    const c = cases.gaussian!;
    const [lo, hi] = (c.ort.minmax_u8_sym!.result.thresholds as unknown[]).map(num) as [number, number];
    expect(quantParams(lo, hi, 'uint8', { symmetric: true }).zeroPoint).toBe(127);
    const torch = c.torch.minmax_quint8_symmetric!.result;
    const p = quantParams(num(torch.min_val), num(torch.max_val), 'uint8', { symmetric: true, convention: 'pytorch' });
    expect([p.scale, p.zeroPoint]).toEqual([num(torch.scale), 128]);
  });

  it('reduce_range: onnxruntime int8 [-64, 64], PyTorch [-64, 63]', () => {
    expect(quantRangeFor('int8', { reduceRange: true })).toEqual({ qmin: -64, qmax: 64 });
    expect(quantRangeFor('int8', { reduceRange: true, convention: 'pytorch' })).toEqual({ qmin: -64, qmax: 63 });
    expect(quantParams(-2, 2, 'int8', { symmetric: true, reduceRange: true }).scale).toBe(Math.fround(2 / 64));
    expect(quantParams(-2, 2, 'int8', { symmetric: true, reduceRange: true, convention: 'pytorch' }).scale).toBe(
      Math.fround(2 / 63.5),
    );
  });

  it('tiny ranges: onnxruntime keeps 1e-8-wide scales, PyTorch clamps to 2^-23', () => {
    const c = cases['tiny_1e-8']!;
    const [lo, hi] = (c.ort.minmax_u8!.result.thresholds as unknown[]).map(num) as [number, number];
    expect(quantParams(lo, hi, 'uint8').scale).toBe((c.ort.minmax_u8!.result.qparams as { scale: number }).scale);
    expect(quantParams(lo, hi, 'uint8').scale).toBeLessThan(1e-9);
    expect(quantParams(lo, hi, 'uint8', { convention: 'pytorch' }).scale).toBe(Math.fround(2 ** -23));
    expect(quantParams(0, 0, 'uint8')).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('16-bit under PyTorch rules: the full range, zero point 2^(bits-1) when symmetric unsigned', () => {
    expect(quantRangeFor('uint16', { convention: 'pytorch', symmetric: true })).toEqual({ qmin: 0, qmax: 65535 });
    expect(quantParams(-1, 1, 'uint16', { convention: 'pytorch', symmetric: true }).zeroPoint).toBe(32768);
    expect(quantParams(-1, 1, 'int16', { convention: 'pytorch', symmetric: true }).scale).toBe(
      Math.fround(1 / 32767.5),
    );
  });
});
