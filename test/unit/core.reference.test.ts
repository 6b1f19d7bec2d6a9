/**
 * The core's numbers against onnxruntime's own quantization math (reference kit, ORT section).
 * Scale and zero point must match to the float32 bit; quantized values exactly.
 */
import { describe, expect, it } from 'vitest';
import {
  activationQParams,
  adjustWeightScaleForInt32Bias,
  createMinMax,
  finalizeMinMax,
  isNonFinite,
  quantizeBias,
  quantizeLinear,
  quantizeWeightPerChannel,
  quantizeWeightPerTensor,
  requantizeWeight,
  updateMinMax,
  type IntDType,
} from '../../src/core';
import { flat, loadArray, num, referenceCases, specCalls } from '../helpers/reference';

const cases = referenceCases();
const MINMAX_CONFIGS = ['minmax_u8', 'minmax_u8_reduce_range', 'minmax_s8_asym', 'minmax_s8_sym', 'minmax_u8_sym'];

describe('min-max calibration and activation qparams match onnxruntime', () => {
  const rows = Object.entries(cases).flatMap(([name, c]) =>
    MINMAX_CONFIGS.filter((k) => c.ort[k]).map((k) => [name, k, c.ort[k]!] as const),
  );
  it.each(rows)('%s / %s', (_name, _config, entry) => {
    let state = createMinMax();
    for (const call of specCalls(entry.spec)) for (const batch of call) state = updateMinMax(state, batch);
    const thresholds = (entry.result.thresholds as unknown[]).map(num);
    const qp = entry.result.qparams as Record<string, unknown>;
    if (thresholds.some((t) => !Number.isFinite(t)) || 'error' in qp) {
      // onnxruntime gives a NaN or infinite range here; Quantscope flags the tensor instead.
      expect(isNonFinite(state)).toBe(true);
      return;
    }
    expect(isNonFinite(state)).toBe(false);
    const range = finalizeMinMax(state)!;
    const symmetric = entry.spec.symmetric === true;
    const lo = symmetric ? -Math.max(Math.abs(range.rmin), Math.abs(range.rmax)) : range.rmin;
    const hi = symmetric ? Math.max(Math.abs(range.rmin), Math.abs(range.rmax)) : range.rmax;
    expect([lo, hi]).toEqual(thresholds);
    const p = activationQParams(lo, hi, (entry.spec.qtype as IntDType | undefined) ?? 'uint8', {
      symmetric,
      reduceRange: entry.spec.reduce_range === true,
    });
    expect(p.scale).toBe(num(qp.scale));
    expect(p.zeroPoint).toBe(num(qp.zero_point));
  });
});

describe('QuantizeLinear with given parameters matches onnxruntime (round half to even, saturate)', () => {
  const rows = Object.entries(cases).flatMap(([name, c]) =>
    Object.entries(c.ort)
      .filter(([, e]) => e.spec.op === 'quantize' && e.spec.scale !== undefined && !('error' in e.result))
      .map(([k, e]) => [name, k, e] as const),
  );
  it.each(rows)('%s / %s', (_name, _k, entry) => {
    const data = loadArray(entry.spec.data as string).data;
    const q = quantizeLinear(
      data,
      Math.fround(entry.spec.scale as number),
      entry.spec.zero_point as number,
      entry.spec.qtype as IntDType,
    );
    expect(Array.from(q)).toEqual(flat(entry.result.quantized));
  });
  it('has rows', () => expect(rows.length).toBeGreaterThan(20));
});

describe('weights per tensor match onnxruntime', () => {
  const rows = Object.entries(cases).flatMap(([name, c]) =>
    Object.entries(c.ort)
      .filter(([, e]) => e.spec.op === 'quantize' && e.spec.scale === undefined && !('error' in e.result))
      .map(([k, e]) => [name, k, e] as const),
  );
  it.each(rows)('%s / %s', (_name, _k, entry) => {
    const data = loadArray(entry.spec.data as string).data;
    const w = quantizeWeightPerTensor(data, { dtype: entry.spec.qtype as IntDType });
    expect(w.scales[0]).toBe(entry.result.scale);
    expect(w.zeroPoints[0]).toBe(entry.result.zero_point);
    expect(Array.from(w.data)).toEqual(flat(entry.result.quantized));
  });
});

describe('weights per channel and int32 bias match onnxruntime', () => {
  const rows = Object.entries(cases).flatMap(([name, c]) =>
    Object.entries(c.ort)
      .filter(([, e]) => e.spec.op === 'quantize_per_channel' && !('error' in e.result))
      .map(([k, e]) => [name, k, e] as const),
  );
  it.each(rows)('%s / %s', (_name, _k, entry) => {
    const { data, shape } = loadArray(entry.spec.data as string);
    let dtype = entry.spec.qtype as IntDType;
    if (entry.spec.qdq !== false && dtype === 'uint8') dtype = 'int8'; // QDQ per-channel forces int8
    const symmetric = entry.spec.symmetric as boolean | undefined;
    let w = quantizeWeightPerChannel(data, shape, entry.spec.axis as number, {
      dtype,
      ...(symmetric === undefined ? {} : { symmetric }),
      reduceRange: entry.spec.reduce_range === true,
    });
    const r = entry.result;
    if (typeof entry.spec.bias === 'string') {
      const bias = loadArray(entry.spec.bias).data;
      const inputScale = entry.spec.input_scale as number;
      if (entry.spec.adjust_weight_scale_for_int32_bias !== false) {
        const adjusted = adjustWeightScaleForInt32Bias(inputScale, w.scales, bias);
        expect(adjusted !== null).toBe(r.weight_scale_adjusted === true);
        if (adjusted) w = requantizeWeight(data, shape, w, adjusted);
      }
      const b = quantizeBias(bias, inputScale, w.scales);
      const rb = r.bias as Record<string, unknown>;
      expect(Array.from(b.scales)).toEqual(flat(rb.scale));
      expect(Array.from(b.data)).toEqual(flat(rb.quantized));
      expect(b.clipped).toBe(rb.clipped_to_int32);
    }
    expect(Array.from(w.scales)).toEqual(flat(r.scales));
    expect(Array.from(w.zeroPoints)).toEqual(flat(r.zero_points));
    expect(Array.from(w.data)).toEqual(flat(r.quantized));
  });
  it('covers the bias-overflow case', () => expect(rows.some(([n]) => n === 'conv_weight_tiny_channel')).toBe(true));
});
