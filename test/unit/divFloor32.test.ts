/**
 * The quantization error's fast floor division (float64 quotient away from integers) against
 * PyTorch's float32 div_floor_floating steps (divFloor32), on random float32 pairs and on quotients
 * one ulp either side of an integer, where only the steps themselves decide.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { divFloor32, divFloor32Fast } from '../../src/core/torchHistogram';

const f32 = Math.fround;

/** The float32 values one ulp below and above x. */
function neighbours(x: number): number[] {
  const buf = new Float32Array(1);
  const bits = new Int32Array(buf.buffer);
  buf[0] = x;
  const b = bits[0]!;
  return [-1, 1].map((d) => {
    bits[0] = b + (x >= 0 ? d : -d);
    return buf[0]!;
  });
}

describe('divFloor32Fast', () => {
  it('equals the float32 steps on random pairs', () => {
    fc.assert(
      fc.property(
        fc.float({ min: -1e4, max: 1e4, noNaN: true }),
        fc.float({ min: Math.fround(1e-3), max: 100, noNaN: true }),
        (a, b) => {
          expect(divFloor32Fast(a, b)).toBe(divFloor32(a, b));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('equals them on quotients at and one ulp around an integer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -3000, max: 3000 }),
        fc.float({ min: Math.fround(1e-3), max: 10, noNaN: true }),
        (k, b) => {
          const a = f32(k * b);
          for (const x of [a, ...neighbours(a)]) expect(divFloor32Fast(x, b)).toBe(divFloor32(x, b));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
