/**
 * The streaming histogram against one built from all the data at once: its cumulative counts agree
 * within one bin everywhere; memory stays bounded when a range explodes, and the state says so.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createHistogram,
  histogramEdges,
  histogramRange,
  MAX_GROWN_BINS,
  updateHistogram,
  type HistogramState,
} from '../../src/core';
import { mulberry32, normalSampler } from '../../src/core/random';

/**
 * Count of values below x according to a histogram: the bins wholly below, and the bin holding x (by
 * its float32 edges). When a histogram grows, old counts keep their bins while the new edges are
 * recomputed in float32 (as numpy and onnxruntime do), so a value can sit one bin off: "within one bin".
 */
function cdfBracket(h: HistogramState, x: number): { low: number; high: number } {
  const [lo, hi] = histogramRange(h);
  const edges = histogramEdges(lo, hi, h.counts.length);
  let k = 0;
  while (k < h.counts.length - 1 && edges[k + 1]! <= x) k++;
  let below = 0;
  for (let i = 0; i < k; i++) below += h.counts[i]!;
  const c = (i: number) => h.counts[i] ?? 0;
  return { low: below - c(k - 1), high: below + c(k) + c(k + 1) };
}

function batches(seed: number, sizes: number[], scales: number[]): Float32Array[] {
  const n = normalSampler(mulberry32(seed));
  return sizes.map((s, i) => Float32Array.from({ length: s }, () => n() * scales[i]!));
}

describe('streamed histogram equals the all-at-once one within one bin', () => {
  it('on batches whose range grows and shrinks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.array(fc.double({ min: 0.1, max: 6, noNaN: true }), { minLength: 2, maxLength: 6 }),
        (seed, scales) => {
          const data = batches(
            seed,
            scales.map(() => 2000),
            scales,
          );
          let streamed = createHistogram(2048);
          for (const b of data) streamed = updateHistogram(streamed, b);
          const all = new Float32Array(data.reduce((a, b) => a + b.length, 0));
          let o = 0;
          for (const b of data) {
            all.set(b, o);
            o += b.length;
          }
          const once = updateHistogram(createHistogram(2048), all);
          expect(streamed.total).toBe(once.total);
          const [lo, hi] = histogramRange(once);
          for (let k = 0; k <= 64; k++) {
            const x = lo + ((hi - lo) * k) / 64;
            const truth = all.reduce((a, v) => a + (v < x ? 1 : 0), 0);
            const s = cdfBracket(streamed, x);
            expect(truth).toBeGreaterThanOrEqual(s.low);
            expect(truth).toBeLessThanOrEqual(s.high);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('bounds the bins when a range explodes, and records that it re-binned', () => {
    let h = createHistogram(2048);
    h = updateHistogram(h, Float32Array.of(-1, 0.5, 1));
    h = updateHistogram(h, Float32Array.of(10));
    expect(h.rebinned).toBe(0);
    h = updateHistogram(h, Float32Array.of(1e6, -3));
    expect(h.counts.length).toBeLessThanOrEqual(MAX_GROWN_BINS);
    expect(h.rebinned).toBe(1);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(6);
    expect([h.min, h.max]).toEqual([-3, 1e6]);
  });
});
