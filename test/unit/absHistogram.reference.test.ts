/**
 * The |x| histogram and the symmetric percentile against onnxruntime's collect_absolute_value and
 * compute_percentile (reference kit, `percentile_u8`: ORT's default symmetric=True), including the
 * multi-call cases whose edges grow with np.arange, and the two-pass form that equals one call.
 */
import { describe, expect, it } from 'vitest';
import {
  absFromValueHistogram,
  createAbsHistogram,
  foldIntoAbsHistogram,
  seedAbsHistogram,
  updateAbsHistogram,
} from '../../src/core/absHistogram';
import { createHistogram, histogramEdges, histogramRange } from '../../src/core/histogram';
import { updateHistogram } from '../../src/core/histogramFold';
import { percentileRangeSymmetric } from '../../src/core/methods/percentile';
import { mulberry32, normalSampler } from '../../src/core/random';
import { concat } from '../helpers/arrays';
import { num, referenceCases, specCalls } from '../helpers/reference';

const cases = referenceCases();
const rows = Object.entries(cases).filter(([, c]) => c.ort.percentile_u8);

describe('symmetric percentile on the |x| histogram matches onnxruntime', () => {
  it.each(rows.filter(([, c]) => !('error' in c.ort.percentile_u8!.result)))('%s', (_n, c) => {
    const e = c.ort.percentile_u8!;
    let h = createAbsHistogram();
    for (const call of specCalls(e.spec)) h = updateAbsHistogram(h, concat(call));
    expect(h.counts.length).toBe(e.result.hist_bins);
    expect(h.edges[0]).toBe(num(e.result.hist_first_edge));
    expect(h.edges[h.edges.length - 1]).toBe(num(e.result.hist_last_edge));
    const r = percentileRangeSymmetric(h, (e.result.options as { percentile: number }).percentile);
    expect([r.rmin, r.rmax]).toEqual((e.result.thresholds as unknown[]).map(num));
  });

  it.each(rows.filter(([, c]) => 'error' in c.ort.percentile_u8!.result))(
    '%s is refused with a message, as onnxruntime refuses it',
    (_n, c) => {
      const e = c.ort.percentile_u8!;
      expect(() => {
        let h = createAbsHistogram();
        for (const call of specCalls(e.spec)) h = updateAbsHistogram(h, concat(call), 2048, 'the tensor');
      }).toThrow(/the tensor/);
    },
  );

  it('covers the growing multi-call cases', () => {
    const grown = rows.filter(([, c]) => Number(c.ort.percentile_u8!.result.hist_bins) > 2048);
    expect(grown.length).toBeGreaterThanOrEqual(3);
  });
});

describe('two passes (min|x|, max|x| first, then binning) equal one call over all the data', () => {
  it('on the multi-batch case and on batches whose range grows', () => {
    const spec = cases.multi_batch_growing!.ort.percentile_u8!;
    const batches = specCalls(spec.spec)[0]!;
    const once = updateAbsHistogram(createAbsHistogram(), concat(batches));
    let amin = Infinity;
    let amax = 0;
    for (const b of batches) {
      for (const v of b) {
        amin = Math.min(amin, Math.abs(v));
        amax = Math.max(amax, Math.abs(v));
      }
    }
    let two = seedAbsHistogram(amin, amax);
    for (const b of batches) two = foldIntoAbsHistogram(two, b);
    expect(Array.from(two.counts)).toEqual(Array.from(once.counts));
    expect(Array.from(two.edges)).toEqual(Array.from(once.edges));
    const r = percentileRangeSymmetric(two, 99.999);
    expect([r.rmin, r.rmax]).toEqual((spec.result.thresholds as unknown[]).map(num));
  });
});

describe('|x| folded from the value histogram', () => {
  it('keeps every count and lands within a bin of the exact |x| percentile', () => {
    const n = normalSampler(mulberry32(7));
    const data = Float32Array.from({ length: 50_000 }, () => n() * 2 + (n() > 2.5 ? 9 : 0));
    const folded = absFromValueHistogram(updateHistogram(createHistogram(2048), data));
    expect(folded.counts.reduce((a, b) => a + b, 0)).toBe(data.length);
    const exact = percentileRangeSymmetric(updateAbsHistogram(createAbsHistogram(), data), 99.9);
    const approx = percentileRangeSymmetric(folded, 99.9);
    const width = folded.edges[1]! - folded.edges[0]!;
    expect(Math.abs(approx.rmax - exact.rmax)).toBeLessThanOrEqual(2 * width);
    // the bound means something: the edges one bin off (a fold against the wrong half) miss it
    const shifted = { ...folded, edges: folded.edges.map((e) => e + 3 * width) };
    expect(Math.abs(percentileRangeSymmetric(shifted, 99.9).rmax - exact.rmax)).toBeGreaterThan(2 * width);
  });

  it("takes the value histogram's upper edges as histogramEdges gives them, float32 threshold or not", () => {
    // a threshold from data is a float32; one set by hand (a test's) need not be, and the
    // last edge is then histogramEdges' float32 rounding of it, not the float64 value
    for (const [bins, threshold] of [
      [2048, Math.fround(3.7)],
      [2048, 0.1],
      [256, Math.PI * 1e3],
      [7, 1 / 3],
    ] as const) {
      const h = { ...createHistogram(bins), counts: new Float64Array(bins).fill(1), threshold, total: bins };
      const [lo, hi] = histogramRange(h);
      const half = bins >> 1;
      const want = [0, ...Array.from(histogramEdges(lo, hi, bins).subarray(half + 1))];
      expect(Array.from(absFromValueHistogram(h).edges)).toEqual(want);
    }
  });
});
