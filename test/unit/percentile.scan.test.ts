/** The percentile's one-pass CDF crossing against numpy's two steps (cumsum, then searchsorted). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cdfCrossings, histogramCdf, searchSortedLeft } from '../../src/core/methods/percentile';

describe('cdfCrossings', () => {
  it('finds the indices searchsorted finds on the CDF, on random, sparse, spiky and empty-ended histograms', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 1e9 })), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (raw, cutsRaw, sumTotal) => {
          const counts = Float64Array.from(raw);
          const sum = counts.reduce((a, b) => a + b, 0);
          // the histogram's own total, or one that differs from the counts' sum (ORT's total counts values dropped)
          const total = sumTotal ? sum : sum * 1.5 + 1;
          const cuts = [...cutsRaw, 1 - 1e-7, 0.99999, 1].sort((a, b) => a - b);
          const cdf = histogramCdf(counts, total);
          expect(cdfCrossings(counts, total, cuts)).toEqual(cuts.map((v) => searchSortedLeft(cdf, v)));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('falls back to the two steps for a total of 0', () => {
    const counts = Float64Array.of(0, 0, 0);
    const cdf = histogramCdf(counts, 0);
    expect(cdfCrossings(counts, 0, [0.5])).toEqual([searchSortedLeft(cdf, 0.5)]);
  });
});
