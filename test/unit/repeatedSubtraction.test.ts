/**
 * subtractUntil (a binade's steps of x ← x - step at once) against the loop that takes them one by
 * one: the same value, bit for bit, on random starts, steps and stopping points, across binades, on
 * steps exactly halfway between two multiples of the spacing (ties, whose rounding depends on x's last
 * bit), near the subnormals and past zero.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stepsInBinade, subtractUntil } from '../../src/core/methods/repeatedSubtraction';

function stepwise(x: number, step: number, done: (x: number) => boolean): number {
  while (!done(x)) x -= step;
  return x;
}

/** Both, and how often each asked `done`: the stretches must ask far less on long runs. */
function both(x: number, step: number, stop: number, f32 = false) {
  expect((x - stop) / step).toBeLessThan(1e6); // the reference loop's steps
  let fastAsks = 0;
  let slowAsks = 0;
  const rule = (v: number) => (f32 ? Math.fround(v * 1e5) <= Math.fround(stop * 1e5) : v <= stop);
  const fast = subtractUntil(x, step, (v) => (fastAsks++, rule(v)));
  const slow = stepwise(x, step, (v) => (slowAsks++, rule(v)));
  return { fast, slow, fastAsks, slowAsks };
}

describe('subtractUntil', () => {
  it('reaches the same value as stepping one by one (random starts, steps and stops)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 4, noNaN: true }),
        fc.constantFrom(1e-5, 3e-7, 0.1, 1 / 3, 2 ** -20),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        (x, step, frac, f32) => {
          // at most ~50,000 steps for the reference loop
          const stop = Math.max(x - 50_000 * step, x * frac);
          const r = both(x, step, stop, f32);
          expect(Object.is(r.fast, r.slow)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("takes PyTorch's 1e-5 steps from 1 down across binades in a few hundred looks, to the same bits", () => {
    for (const stop of [0.9, 0.5, 0.49999, 0.25, 0.1, 0.0123456, 1e-5, 0]) {
      const r = both(1, 1e-5, stop);
      expect(Object.is(r.fast, r.slow)).toBe(true);
      if (stop <= 0.5) expect(r.fastAsks).toBeLessThan(r.slowAsks / 50);
    }
  });

  it('steps a tie one at a time (its rounding depends on the last bit of x)', () => {
    // in [1, 2) the spacing is 2^-52: a step of 2.5 spacings is halfway between 2 and 3 of them
    const u = 2 ** -52;
    expect(stepsInBinade(1.5, 2.5 * u, 1.5 - 2.5 * u)).toBe(0);
    for (const x of [1.5, 1.5 + u, 1 + 1000 * u, 1 + 1001 * u]) {
      const r = both(x, 2.5 * u, Math.max(1, x - 3000 * u));
      expect(Object.is(r.fast, r.slow)).toBe(true);
    }
    // 2.25 spacings is not a tie: the stretch subtracts 2 spacings a step, as the loop does
    expect(stepsInBinade(1.5, 2.25 * u, 1.5 - 2.25 * u)).toBeGreaterThan(1000);
    const r = both(1 + 9001 * u, 2.25 * u, 1);
    expect(Object.is(r.fast, r.slow)).toBe(true);
  });

  it('stops short of the binade edge: the step that crosses it rounds on the finer grid below', () => {
    // the first step that leaves [1, 2) lands on the grid of [0.5, 1), spacing 2^-53
    const step = 1e-5;
    const next = 1 + 3 * step - step;
    const k = stepsInBinade(1 + 3 * step, step, next);
    expect(k).toBeGreaterThan(0);
    expect(k).toBeLessThanOrEqual(3);
    for (const stop of [1, 1 - step, 1 - 2.5 * step, 0.99]) {
      const r = both(1 + 3 * step, step, stop);
      expect(Object.is(r.fast, r.slow)).toBe(true);
    }
    // a stretch that would end exactly on the binade's bottom: from 1 + 3d with a step 0.4 spacings
    // above d, the third step's exact value is 1 - 0.4u, which rounds to 1 - u/2 (the spacing below
    // 1), not to 1 = (1 + 3d) - 3d
    const u = 2 ** -52;
    const x = 1 + 3000 * u;
    expect(stepsInBinade(x, 1000.4 * u, x - 1000.4 * u)).toBe(2);
    expect(x - 1000.4 * u - 1000.4 * u - 1000.4 * u).toBe(1 - u / 2);
    const r = both(x, 1000.4 * u, 1 - 3000 * u);
    expect(Object.is(r.fast, r.slow)).toBe(true);
  });

  it('steps singly near the subnormals, past zero and where nothing is finite', () => {
    for (const [x, step, stop] of [
      [2 ** -1010, 2 ** -1030, 2 ** -1011],
      [3e-5, 1e-5, -1],
      [1e-5, 1e-5, -3e-5],
    ] as const) {
      const r = both(x, step, stop);
      expect(Object.is(r.fast, r.slow)).toBe(true);
    }
    expect(stepsInBinade(Infinity, 1, Infinity)).toBe(0);
    expect(stepsInBinade(1, NaN, NaN)).toBe(0);
    expect(stepsInBinade(-1, 1e-5, -1 - 1e-5)).toBe(0);
    // a step under half the spacing rounds back to x: 0, where the count of steps came out Infinity
    expect(stepsInBinade(1.5, 2 ** -60, 1.5 - 2 ** -60)).toBe(0);
  });
});
