/**
 * The HistogramObserver's quantization error with its cubes taken once, its divisions by 3 as products
 * and its floors from one reciprocal, against the plain float32 steps, bit for bit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { divFloor32, floorDiv32, third32, torchQuantizationError } from '../../src/core/torchHistogramError';
import { torchQuantizationErrorReference } from '../helpers/torchHistogramErrorReference';
import { mulberry32 } from '../../src/core/random';

const f32 = Math.fround;

describe('third32', () => {
  it('equals f32(y / 3) for every float32 mantissa: subnormal, smallest normal (a subnormal third) and at 1', () => {
    const bits = new Uint32Array(1);
    const asFloat = new Float32Array(bits.buffer);
    let checked = 0;
    for (const exponent of [0, 1, 127]) {
      for (let m = 0; m < 1 << 23; m++) {
        bits[0] = (exponent << 23) | m;
        const y = asFloat[0]!;
        if (third32(y) !== f32(y / 3)) expect([y, third32(y)]).toEqual([y, f32(y / 3)]);
        checked++;
      }
    }
    expect(checked).toBe(3 << 23);
  });
});

describe('floorDiv32', () => {
  it('equals the float32 steps on random pairs, on exact multiples and one ulp around them', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -300_000, max: 300_000 }),
        fc.float({ min: Math.fround(1e-6), max: 1e3, noNaN: true }),
        fc.integer({ min: -2, max: 2 }),
        fc.float({ min: -1e5, max: 1e5, noNaN: true }),
        (k, b, ulps, free) => {
          const buf = new Float32Array([f32(k * b)]);
          const i32 = new Int32Array(buf.buffer);
          i32[0]! += ulps;
          for (const a of [buf[0]!, free]) expect(floorDiv32(a, b, 1 / b)).toBe(divFloor32(a, b));
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

describe('torchQuantizationError', () => {
  it('equals the plain steps bit for bit, destination bins on whole and fractional bin counts', () => {
    const r = mulberry32(7);
    for (let k = 0; k < 200; k++) {
      const bins = [2048, 512, 100][k % 3]!;
      const counts = new Float32Array(bins);
      for (let i = 0; i < bins; i++) counts[i] = r() < 0.3 ? 0 : f32(r() < 0.5 ? Math.floor(r() * 1e4) : r() * 50);
      const min = f32(-r() * 10);
      const max = f32(r() * 10 + 1e-3);
      const start = Math.floor(r() * bins * 0.3);
      // every third case a kept width that is a whole multiple of the 256 destination bins
      const end = k % 3 === 0 ? Math.min(bins - 1, start + 255) : bins - 1 - Math.floor(r() * bins * 0.3);
      const fast = torchQuantizationError(counts, min, max, start, end, 256);
      const plain = torchQuantizationErrorReference(counts, min, max, start, end, 256);
      expect(Object.is(fast, plain) ? fast : [k, fast]).toBe(plain);
    }
  });
});
