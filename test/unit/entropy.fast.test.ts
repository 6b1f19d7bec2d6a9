/**
 * The fast entropy search (float64 scores from prefix sums, exact re-scoring near the best) against
 * the exhaustive one that scores every candidate as onnxruntime does: the same range, always.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHistogram } from '../../src/core/histogram';
import { updateHistogram } from '../../src/core/histogramFold';
import {
  entropyRangeOrt,
  entropyRangeOrtExhaustive,
  fastDivergences,
  fastDivergencesByRun,
} from '../../src/core/methods/entropy';
import { SHORT_MIN_TOTAL } from '../../src/core/methods/entropyFastBlocks';
import { mulberry32, normalSampler } from '../../src/core/random';

function sample(seed: number, kind: number, size: number): Float32Array {
  const rnd = mulberry32(seed);
  const n = normalSampler(rnd);
  return Float32Array.from({ length: size }, () => {
    switch (kind) {
      case 0:
        return n();
      case 1:
        return Math.max(0, n() * 2); // ReLU
      case 2:
        return n() * (rnd() < 0.01 ? 30 : 1); // outliers
      case 3:
        return Math.round(n() * 3) / 3; // few distinct values: many empty bins
      case 4:
        return -Math.log(rnd()) * (rnd() < 0.5 ? 1 : -4); // skewed Laplace
      case 5:
        return rnd() < 0.9 ? 0.75 : n(); // a spike holding 90% of the mass
      case 6:
        return 1.25; // all mass in one bin
      case 7:
        return (rnd() < 0.5 ? -3 : 5) + n() * 0.05; // two modes, empty between
      default:
        return rnd() < 0.001 ? n() * 1e4 : n(); // huge outliers: the body in a few central bins
    }
  });
}

describe('fast entropy search', () => {
  it('scores every candidate as the exhaustive search does, to 1e-5', () => {
    const h = updateHistogram(createHistogram(2048), sample(3, 2, 40_000));
    const exact = entropyRangeOrtExhaustive(h).divergences;
    const fast = fastDivergences(h.counts, 128)!;
    expect(fast.length).toBe(exact.length);
    let worst = 0;
    for (let k = 0; k < fast.length; k++)
      worst = Math.max(worst, Math.abs(fast[k]! - exact[k]!) / Math.max(1e-3, Math.abs(exact[k]!)));
    expect(worst).toBeLessThan(1e-5);
  });

  it('reads the interior runs from block sums to the same scores as summing run by run', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom(256, 2048, 2300),
        fc.integer({ min: 300, max: 30_000 }),
        fc.constantFrom(3, 128),
        (seed, kind, bins, size, nq) => {
          const h = updateHistogram(createHistogram(bins), sample(seed, kind, size));
          const blocked = fastDivergences(h.counts, nq)!;
          const byRun = fastDivergencesByRun(h.counts, nq)!;
          expect(blocked.length).toBe(byRun.length);
          for (let k = 0; k < byRun.length; k++) {
            if (!Number.isFinite(byRun[k]!)) expect(blocked[k]).toBe(byRun[k]);
            else expect(Math.abs(blocked[k]! - byRun[k]!)).toBeLessThan(1e-9 * Math.max(1, Math.abs(byRun[k]!)));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reads them from the short block layout (large histograms) to the same scores and range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 0, max: 8 }),
        fc.constantFrom(2048, 2300),
        (seed, kind, bins) => {
          const h = updateHistogram(createHistogram(bins), sample(seed, kind, SHORT_MIN_TOTAL + (seed % 50_000)));
          const blocked = fastDivergences(h.counts, 128)!;
          const byRun = fastDivergencesByRun(h.counts, 128)!;
          for (let k = 0; k < byRun.length; k++) {
            if (!Number.isFinite(byRun[k]!)) expect(blocked[k]).toBe(byRun[k]);
            else expect(Math.abs(blocked[k]! - byRun[k]!)).toBeLessThan(1e-9 * Math.max(1, Math.abs(byRun[k]!)));
          }
          const a = entropyRangeOrt(h);
          const b = entropyRangeOrtExhaustive(h);
          expect([a.rmin, a.rmax]).toEqual([b.rmin, b.rmax]);
        },
      ),
      { numRuns: 6 },
    );
    // a spike that makes the total large, and counts of 1 on one bin in four: every level 1 (the
    // largest v^-2 terms) and eq ~ 3e-4 on the narrow runs; the short layout's series, eq² term
    // included, stays within 1e-12 of the run-by-run sums here (without that term: 4e-11)
    const counts = new Float64Array(2048);
    for (let j = 0; j < 2048; j += 4) counts[j] = 1;
    counts[1024] = 2e5;
    const blocked = fastDivergences(counts, 128)!;
    const byRun = fastDivergencesByRun(counts, 128)!;
    for (let k = 0; k < byRun.length; k++)
      expect(Math.abs(blocked[k]! - byRun[k]!)).toBeLessThan(1e-12 * Math.max(1, Math.abs(byRun[k]!)));
  });

  it('picks the same range as the exhaustive search on varied and adversarial histograms', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 0, max: 8 }),
        fc.constantFrom(256, 512, 2048),
        fc.integer({ min: 300, max: 30_000 }),
        (seed, kind, bins, size) => {
          const h = updateHistogram(createHistogram(bins), sample(seed, kind, size));
          const a = entropyRangeOrt(h);
          const b = entropyRangeOrtExhaustive(h);
          expect([a.rmin, a.rmax]).toEqual([b.rmin, b.rmax]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reuses a repeated term without changing a bit of any exact score', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 0, max: 8 }),
        fc.constantFrom(256, 512),
        fc.integer({ min: 10, max: 20_000 }),
        (seed, kind, bins, size) => {
          const h = updateHistogram(createHistogram(bins), sample(seed, kind, size));
          const reused = entropyRangeOrtExhaustive(h).divergences;
          const plain = entropyRangeOrtExhaustive(h, 128, { reuseTerms: false }).divergences;
          expect(Buffer.from(reused.buffer)).toEqual(Buffer.from(plain.buffer));
        },
      ),
      { numRuns: 25 },
    );
  });

  it("scores onnxruntime's lone candidate (128 bins, 128 quantized bins) as the exhaustive search does", () => {
    for (let kind = 0; kind <= 8; kind++) {
      const h = updateHistogram(createHistogram(128), sample(kind + 1, kind, 3000));
      const a = entropyRangeOrt(h);
      const b = entropyRangeOrtExhaustive(h);
      expect([a.rmin, a.rmax, ...a.divergences]).toEqual([b.rmin, b.rmax, ...b.divergences]);
    }
  });

  it('falls back to the exhaustive search for fractional counts', () => {
    const h = updateHistogram(createHistogram(512), sample(5, 0, 5000));
    const scaled = { ...h, counts: h.counts.map((c) => c * 0.3) };
    expect(fastDivergences(scaled.counts, 128)).toBeNull();
    const a = entropyRangeOrt(scaled);
    const b = entropyRangeOrtExhaustive(scaled);
    expect([a.rmin, a.rmax]).toEqual([b.rmin, b.rmax]);
  });
});
