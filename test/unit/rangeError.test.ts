/** What a range costs, from the histogram: rounding error for a covering range, clipping beyond it. */
import { describe, expect, it } from 'vitest';
import {
  activationQParams,
  createHistogram,
  histogramRange,
  quantParams,
  quantizeValue,
  updateHistogram,
} from '../../src/core';
import type { IntDType } from '../../src/core/dtype';
import { histogramRangeError, methodRange } from '../../src/core/methods';
import { mulberry32, normalSampler } from '../../src/core/random';

const rand = mulberry32(5);
const uniform = Float32Array.from({ length: 50_000 }, () => rand() * 2 - 1);
const h = updateHistogram(createHistogram(2048), uniform);

describe('histogramRangeError', () => {
  it('costs about scale²/12 for a range that covers the data (rounding only)', () => {
    const e = histogramRangeError(h, -1, 1, 'int8', false);
    const s = activationQParams(-1, 1, 'int8').scale;
    expect(e.mse / ((s * s) / 12)).toBeGreaterThan(0.8);
    expect(e.mse / ((s * s) / 12)).toBeLessThan(1.2);
  });
  it('costs far more when the range clips the data', () => {
    expect(histogramRangeError(h, -0.5, 0.5, 'int8', false).mse).toBeGreaterThan(
      50 * histogramRangeError(h, -1, 1, 'int8', false).mse,
    );
  });
  it('ranks methods by what they cost: one moderate outlier in many values makes min-max waste its grid', () => {
    // A million normal values and one at 12: min-max spends its codes on [-5, 12]; the percentile clips
    // the one outlier (cost 8²) and gains a grid twice as fine for all the others (rounding cost /4).
    const normal = normalSampler(mulberry32(9));
    const data = Float32Array.from({ length: 1_000_000 }, (_, i) => (i === 0 ? 12 : normal()));
    const hh = updateHistogram(createHistogram(2048), data);
    const lo = data.reduce((a, v) => Math.min(a, v), Infinity);
    const stats = { minmax: { min: lo, max: 12, count: data.length, nanCount: 0, infCount: 0 }, histogram: hh };
    const mm = methodRange(stats, 'minmax');
    const pc = methodRange(stats, 'percentile', { percentile: 99.99 });
    expect(pc.rmax).toBeLessThan(5);
    expect(histogramRangeError(hh, pc.rmin, pc.rmax, 'int8', false).sqnrDb).toBeGreaterThan(
      histogramRangeError(hh, mm.rmin, mm.rmax, 'int8', false).sqnrDb,
    );
  });
});

/** histogramRangeError's sums written with quantizeValue, bin by bin: the reference its one loop must equal bit for bit. */
function straightforwardError(hh: typeof h, rmin: number, rmax: number, dtype: IntDType, symmetric: boolean) {
  const p = quantParams(rmin, rmax, dtype, { symmetric });
  const [lo, hi] = histogramRange(hh);
  const w = (hi - lo) / hh.counts.length;
  let signal = 0;
  let noise = 0;
  let total = 0;
  hh.counts.forEach((c, i) => {
    if (c === 0) return;
    const x = lo + (i + 0.5) * w;
    const xq = Math.fround((quantizeValue(x, p.scale, p.zeroPoint, dtype) - p.zeroPoint) * p.scale);
    signal += c * x * x;
    noise += c * (x - xq) ** 2;
    total += c;
  });
  return { mse: total ? noise / total : 0, sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(signal / noise) };
}

describe('histogramRangeError equals quantizeValue bin by bin', () => {
  it('on random histograms, dtypes, clipping, symmetric and asymmetric ranges, bins on grid ties', () => {
    const r = mulberry32(77);
    const normal = normalSampler(mulberry32(78));
    const dtypes: IntDType[] = ['int8', 'uint8', 'int4', 'uint4', 'int16', 'uint16'];
    let checked = 0;
    for (let k = 0; k < 60; k++) {
      const spread = 10 ** (r() * 12 - 6);
      const data = Float32Array.from({ length: 2000 }, () => normal() * spread + (r() < 0.3 ? spread * 3 : 0));
      const hh = updateHistogram(createHistogram(k % 3 ? 2048 : 128), data);
      const dtype = dtypes[k % dtypes.length]!;
      // covering, clipping, one-sided and tiny ranges (x / scale far past the codes)
      const ranges: [number, number][] = [
        [hh.min, hh.max],
        [hh.min * r(), hh.max * r()],
        [0, hh.max],
        [-spread * 1e-6, spread * 1e-6],
        // x / scale near and past 2^51..2^53, where float64's spacing reaches 1 (the rounding's limit)
        [-spread * 3e-14, spread * 3e-14],
        [-spread * 1e-15, spread * 1e-15],
        // a range whose grid lands on the bin centres: exact .5 ties in x / scale
        [-hh.threshold, hh.threshold],
      ];
      for (const [a, b] of ranges) {
        for (const symmetric of [false, true]) {
          const fast = histogramRangeError(hh, a, b, dtype, symmetric);
          const ref = straightforwardError(hh, a, b, dtype, symmetric);
          expect(Object.is(fast.mse, ref.mse) && Object.is(fast.sqnrDb, ref.sqnrDb)).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBe(840);
  });
});

describe('histogramRangeError on grids whose code boundaries fall on or next to bin centres', () => {
  // The sums take each run of bins with one code from a boundary estimate, confirmed by the exact code
  // only when a bin centre sits within 2^-20 of a boundary: here the bin centres land on the
  // boundaries (x / scale a half-integer: round half to even decides) or within float32 rounding of
  // them, on both sides, so both the estimate and the exact codes decide some runs.
  it('equals quantizeValue bin by bin', () => {
    const r = mulberry32(91);
    const dtypes: IntDType[] = ['int8', 'uint8', 'int4', 'uint4'];
    let checked = 0;
    for (let k = 0; k < 48; k++) {
      const n = k % 2 ? 2048 : 128;
      // the bin width: a power of two (centres and boundaries exact: round half to even decides) or not
      // (centres within float64 rounding of the boundaries, which rounding to float32 erases)
      const u = 2 ** -(Math.floor(r() * 40) - 10) * (k % 4 < 2 ? 1 : 1 + r());
      const counts = Float64Array.from({ length: n }, () => (r() < 0.2 ? 0 : Math.floor(r() * 1000) + 1));
      const total = counts.reduce((a, b) => a + b, 0);
      const hh = { ...createHistogram(n), counts, threshold: (n / 2) * u, min: -(n / 2) * u, max: (n / 2) * u, total };
      const dtype = dtypes[k % dtypes.length]!;
      for (const symmetric of [false, true]) {
        const unit = quantParams(-1, 1, dtype, { symmetric }).scale; // the scale of the range [-1, 1]
        for (const m of [1, 3, 4.5, 5, 7, 16]) {
          for (const e of [0, 2 ** -40, -(2 ** -30), 2 ** -25, -(2 ** -24), 2 ** -22, -(2 ** -20), 2 ** -19]) {
            // a range whose scale is m bin widths, times (1 + e): boundaries (j + 1/2)·scale on centres
            // (m < 4: more codes than a quarter of the bins, each bin's code taken in turn)
            const reach = (m * u * (1 + e)) / unit;
            const fast = histogramRangeError(hh, -reach, reach, dtype, symmetric);
            const ref = straightforwardError(hh, -reach, reach, dtype, symmetric);
            expect(Object.is(fast.mse, ref.mse) && Object.is(fast.sqnrDb, ref.sqnrDb)).toBe(true);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(4608);
  });
});

describe('coarsening a grown histogram for the entropy search', () => {
  it('keeps every count, the range and zero on a bin edge', async () => {
    const { coarsenHistogram } = await import('../../src/core/methods');
    let g = updateHistogram(
      createHistogram(2048),
      Float32Array.from({ length: 5000 }, () => rand() * 2 - 1),
    );
    g = updateHistogram(g, Float32Array.of(7.3, -5.1));
    expect(g.counts.length).toBeGreaterThan(2048);
    const c = coarsenHistogram(g, 2048);
    expect(c.counts.length).toBeGreaterThanOrEqual(2048);
    expect(c.counts.length).toBeLessThan(2 * 2048);
    expect(c.counts.length).toBeLessThan(g.counts.length);
    expect(c.counts.reduce((a, b) => a + b, 0)).toBe(5002);
    expect(c.threshold).toBeGreaterThanOrEqual(g.threshold);
    // zero stays at the centre edge: as much mass on each side as before
    const half = (h: { counts: Float64Array }) => h.counts.slice(0, h.counts.length / 2).reduce((a, b) => a + b, 0);
    expect(half(c)).toBe(half(g));
  });

  it('merges bin runs exactly as bin-by-bin assignment does, for every size and factor', async () => {
    const { coarsenHistogram } = await import('../../src/core/methods');
    for (const n of [2050, 2064, 2642, 4097 + 1, 6000, 130]) {
      const counts = Float64Array.from({ length: n }, () => (rand() < 0.3 ? 0 : Math.floor(rand() * 1e6) + rand()));
      const h = { ...createHistogram(2048), counts, threshold: 3, total: counts.reduce((a, b) => a + b, 0) };
      for (const bins of [2048, 128]) {
        const c = coarsenHistogram(h, bins);
        if (n <= bins) {
          expect(c).toBe(h); // nothing to merge
          continue;
        }
        // the reference: each bin i added into merged bin floor((i + pad) / f)
        const f = Math.floor(n / bins);
        let m = Math.ceil(n / f);
        if ((m * f - n) % 2) m++;
        const pad = (m * f - n) / 2;
        const ref = new Float64Array(m);
        for (let i = 0; i < n; i++) ref[Math.floor((i + pad) / f)]! += counts[i]!;
        expect(c.counts).toEqual(ref);
        expect(c.threshold).toBe((h.threshold * (m * f)) / n);
        expect(c.total).toBe(h.total);
      }
    }
  });
});

describe('the MSE search', () => {
  it('costs no more than min-max on tensors with outliers, by the histogram estimate', async () => {
    const { mseRange } = await import('../../src/core/methods');
    const normal = normalSampler(mulberry32(21));
    for (const outlier of [6, 20, 80]) {
      const data = Float32Array.from({ length: 100_000 }, (_, i) => (i < 3 ? outlier : normal()));
      const hh = updateHistogram(createHistogram(2048), data);
      const r = mseRange(hh);
      const mm = histogramRangeError(hh, hh.min, hh.max, 'uint8', false).mse;
      expect(histogramRangeError(hh, r.rmin, r.rmax, 'uint8', false).mse).toBeLessThanOrEqual(mm * 1.02);
    }
  });
});
