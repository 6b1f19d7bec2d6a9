/**
 * PyTorch's conventions and both moving-average forms against the reference kit (the torch section
 * is PyTorch 1.13's own observers), and onnxruntime's distribution method.
 */
import { describe, expect, it } from 'vitest';
import { activationQParams, reduceMinMax } from '../../src/core';
import { distribution, ortMergeRange, ortPassRange, torchMovingAverage } from '../../src/core/methods';
import { torchQParams, torchQuantize, type TorchDType } from '../../src/core/pytorch';
import { flat, histogramFromSpec, num, referenceCases, specCalls, type RefEntry } from '../helpers/reference';

const cases = referenceCases();
const torchRows = (prefix: string) =>
  Object.entries(cases).flatMap(([name, c]) =>
    Object.entries(c.torch)
      .filter(([k, e]) => k.startsWith(prefix) && !('error' in e.result))
      .map(([k, e]) => [`${name}/${k}`, e] as const),
  );

function torchOptions(e: RefEntry) {
  const s = e.spec as Record<string, unknown>;
  return {
    dtype: s.dtype as TorchDType,
    symmetric: s.qscheme === 'per_tensor_symmetric',
    reduceRange: s.reduce_range === true,
    ...(s.quant_min !== undefined ? { quantMin: s.quant_min as number, quantMax: s.quant_max as number } : {}),
  };
}

describe('PyTorch MinMaxObserver conventions', () => {
  it.each(torchRows('minmax_'))('%s', (_n, e) => {
    const batches = specCalls(e.spec).flat();
    let lo = Infinity;
    let hi = -Infinity;
    for (const b of batches) {
      const m = reduceMinMax(b);
      if (m.nanCount) return; // PyTorch raises on NaN: not a case for conventions
      lo = Math.min(
        lo,
        b.reduce((a, v) => Math.min(a, v), Infinity),
      );
      hi = Math.max(
        hi,
        b.reduce((a, v) => Math.max(a, v), -Infinity),
      );
    }
    const r = e.result;
    expect([lo, hi]).toEqual([num(r.min_val), num(r.max_val)]);
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return;
    const p = torchQParams(lo, hi, torchOptions(e));
    expect(p.scale).toBe(num(r.scale));
    expect(p.zeroPoint).toBe(num(r.zero_point));
    if (r.quantized) {
      const all = new Float32Array(batches.reduce((a, b) => a + b.length, 0));
      let o = 0;
      for (const b of batches) {
        all.set(b, o);
        o += b.length;
      }
      // the kit quantizes the last batch seen
      const last = batches[batches.length - 1]!;
      const q = Array.from(torchQuantize(last, p, torchOptions(e).dtype));
      const ref = flat(r.quantized);
      expect(q).toEqual(ref.length === q.length ? ref : ref.slice(-q.length));
    }
  });
});

describe('moving average', () => {
  it.each(torchRows('moving_average_'))('PyTorch, EMA per batch: %s', (_n, e) => {
    const batches = specCalls(e.spec).flat();
    if (batches.some((b) => reduceMinMax(b).nanCount + reduceMinMax(b).infCount > 0)) return;
    const r = torchMovingAverage(batches.map((b) => ({ min: reduceMinMax(b).min, max: reduceMinMax(b).max })));
    expect([r.rmin, r.rmax]).toEqual([num(e.result.min_val), num(e.result.max_val)]);
    const p = torchQParams(r.rmin, r.rmax, torchOptions(e));
    expect([p.scale, p.zeroPoint]).toEqual([num(e.result.scale), num(e.result.zero_point)]);
  });

  const ortRows = Object.entries(cases)
    .filter(
      ([, c]) =>
        c.ort.minmax_u8_moving_average && !('error' in (c.ort.minmax_u8_moving_average.result.qparams as object)),
    )
    .map(([n, c]) => [n, c.ort.minmax_u8_moving_average!] as const);
  // onnxruntime's own per-batch ReduceMin/ReduceMax, infinities included (Quantscope's product
  // policy keeps such tensors float; here only the arithmetic is matched).
  const rawRange = (b: Float32Array) => ({
    min: b.reduce((a, v) => Math.min(a, v), Infinity),
    max: b.reduce((a, v) => Math.max(a, v), -Infinity),
  });
  it.each(ortRows)('onnxruntime, mean within a pass and EMA across passes: %s', (_n, e) => {
    let range = null;
    for (const call of specCalls(e.spec)) {
      const pass = ortPassRange(call.map(rawRange));
      range = ortMergeRange(range, pass);
    }
    expect([range!.rmin, range!.rmax]).toEqual((e.result.thresholds as unknown[]).map(num));
    const qp = e.result.qparams as Record<string, unknown>;
    if (!Number.isFinite(range!.rmin) || !Number.isFinite(range!.rmax)) return;
    const p = activationQParams(range!.rmin, range!.rmax, 'uint8');
    expect([p.scale, p.zeroPoint]).toEqual([num(qp.scale), num(qp.zero_point)]);
  });
});

describe('distribution (float8 E4M3FN scale) matches onnxruntime', () => {
  const rows = Object.entries(cases)
    .filter(
      ([, c]) =>
        c.ort.distribution &&
        !('error' in c.ort.distribution.result) &&
        Number.isFinite(num(c.ort.distribution.result.std)),
    )
    .map(([n, c]) => [n, c.ort.distribution!] as const);
  it.each(rows)('%s', (_n, e) => {
    const d = distribution(histogramFromSpec(e.spec));
    const r = e.result;
    const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.abs(b) * 2e-6 + 1e-37);
    close(d.avg, num(r.avg));
    close(d.std, num(r.std));
    close(d.e4m3fnScale, num((r.float8e4m3fn as Record<string, unknown>).scale));
  });
});
