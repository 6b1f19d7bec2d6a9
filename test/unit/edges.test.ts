/** One histogram edge computed alone equals the same edge of the whole array, bit for bit. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { histogramEdges } from '../../src/core/histogram';
import { histogramEdge } from '../../src/core/methods/edges';

describe('histogramEdge', () => {
  it('equals histogramEdges at every index, on ranges from subnormal to huge', () => {
    fc.assert(
      fc.property(
        fc.float({ min: Math.fround(1e-40), max: Math.fround(1e30), noNaN: true }),
        fc.constantFrom(1, 2, 3, 128, 2047, 2048, 3112),
        (t, n) => {
          const edges = histogramEdges(-t, t, n);
          for (let k = 0; k <= n; k++)
            if (!Object.is(histogramEdge(-t, t, n, k), edges[k]))
              expect([k, histogramEdge(-t, t, n, k)]).toEqual([k, edges[k]]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
