import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { niceTicks } from '../../src/ui/histogramPlot';

describe('niceTicks', () => {
  it('gives round values inside the domain the chart fits to the data', () => {
    // the cls model's input, fitted with 3% padding: recharts drew -4.6148, -1.6148, 1.3852, 4.3852
    // and the right end 4.6343 over the last
    expect(niceTicks(-4.6148, 4.6343)).toEqual([-4, -2, 0, 2, 4]);
    expect(niceTicks(-0.45, 15.5)).toEqual([0, 5, 10, 15]);
    expect(niceTicks(0.0449, 0.0451)).toEqual([0.0449, 0.04495, 0.045, 0.04505, 0.0451]);
    expect(niceTicks(-0.3, 0.3)).toEqual([-0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3]);
    expect(niceTicks(2, 2)).toEqual([2]);
  });

  it('always 2 to 11 ticks, ascending, inside the domain, equally spaced', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        (lo, span) => {
          const hi = lo + span;
          fc.pre(hi > lo);
          const t = niceTicks(lo, hi);
          expect(t.length).toBeGreaterThanOrEqual(2);
          expect(t.length).toBeLessThanOrEqual(11);
          const step = t[1]! - t[0]!;
          // an end within a billionth of a step, or of a double's precision at lo, counts as in
          const slack = span * 1e-9 + Math.abs(lo) * 1e-15;
          for (let i = 0; i < t.length; i++) {
            expect(t[i]!).toBeGreaterThanOrEqual(lo - slack);
            expect(t[i]!).toBeLessThanOrEqual(hi + slack);
            if (i) expect(Math.abs(t[i]! - t[i - 1]! - step)).toBeLessThanOrEqual(step * 1e-6 + slack);
          }
        },
      ),
    );
  });
});
