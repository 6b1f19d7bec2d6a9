/** Properties of the core checked against slow scalar references, values next to ties included. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  activationQParams,
  createHistogram,
  dequantizeLinear,
  packInt4,
  quantizeLinear,
  quantizeValue,
  reduceMinMax,
  roundHalfToEven,
  sqnr,
  unpackInt4,
  updateHistogram,
  type IntDType,
} from '../../src/core';

/** Slow reference: round half to even through exact decimal reasoning on the fraction. */
function refRound(x: number): number {
  const r = Math.round(x); // ties go up here
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

const f32 = fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });

describe('roundHalfToEven', () => {
  it('agrees with the reference on arbitrary values, exact ties and their neighbours', () => {
    const tie = fc.integer({ min: -1e6, max: 1e6 }).map((k) => k + 0.5);
    const nearTie = tie.chain((t) => fc.constantFrom(t, t - 2 ** -30, t + 2 ** -30, Math.fround(t)));
    fc.assert(
      fc.property(
        fc.oneof(f32, tie, nearTie),
        (x) => roundHalfToEven(x) === refRound(x) || (x === 0 && roundHalfToEven(x) === 0),
      ),
    );
  });
  it('rounds ties to even', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5000001].map((v) => roundHalfToEven(v) + 0)).toEqual([
      0, 2, 2, 0, -2, -2, 4,
    ]);
  });
});

describe('quantize / dequantize', () => {
  const dtypes: IntDType[] = ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'];
  it('reconstructs values inside the range to within half a step, and saturates outside it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...dtypes),
        fc.float({ min: Math.fround(0.01), max: 100, noNaN: true }),
        fc.array(f32, { minLength: 1, maxLength: 64 }),
        (dtype, width, raw) => {
          const xs = Float32Array.from(raw, (v) => (v / 1e6) * width);
          const { min, max } = reduceMinMax(xs);
          const p = activationQParams(min, max, dtype);
          const q = quantizeLinear(xs, p.scale, p.zeroPoint, dtype);
          const back = dequantizeLinear(q, p.scale, p.zeroPoint);
          for (let i = 0; i < xs.length; i++) {
            // half a step, plus float32 slack for the division and the range widening to include 0
            expect(Math.abs(back[i]! - xs[i]!)).toBeLessThanOrEqual(
              p.scale * 0.5 * (1 + 1e-5) + 1e-6 * Math.abs(xs[i]!),
            );
          }
        },
      ),
    );
  });
  it('never leaves the dtype range', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...dtypes),
        f32,
        fc.float({ min: Math.fround(1e-6), max: 10, noNaN: true }),
        (dtype, x, s) => {
          const q = quantizeValue(x, s, 0, dtype);
          const lo = { int8: -128, uint8: 0, int16: -32768, uint16: 0, int4: -8, uint4: 0, int32: -(2 ** 31) }[dtype];
          const hi = { int8: 127, uint8: 255, int16: 32767, uint16: 65535, int4: 7, uint4: 15, int32: 2 ** 31 - 1 }[
            dtype
          ];
          return q >= lo && q <= hi;
        },
      ),
    );
  });
  it('gives a zero point that maps 0.0 exactly onto an integer', () => {
    fc.assert(
      fc.property(f32, f32, (a, b) => {
        const p = activationQParams(Math.min(a, b), Math.max(a, b), 'uint8');
        return dequantizeLinear([p.zeroPoint], p.scale, p.zeroPoint)[0] === 0;
      }),
    );
  });
  it('packs int4 low nibble first and unpacks to the same values', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -8, max: 7 }), { maxLength: 33 }), (vals) => {
        expect(Array.from(unpackInt4(packInt4(vals), vals.length, true))).toEqual(vals);
      }),
    );
    expect(Array.from(packInt4([1, 2, -1]))).toEqual([0x21, 0x0f]);
  });
});

describe('streaming histogram', () => {
  it('counts every finite element of every batch exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.oneof(f32, fc.constant(NaN)), { maxLength: 200 }), { minLength: 1, maxLength: 6 }),
        (batches) => {
          let h = createHistogram(64);
          let finite = 0;
          for (const b of batches) {
            h = updateHistogram(h, Float32Array.from(b));
            finite += b.filter((v) => !Number.isNaN(v)).length;
          }
          expect(h.total).toBe(finite);
          expect(h.counts.reduce((a, c) => a + c, 0)).toBe(finite);
        },
      ),
    );
  });
});

describe('sqnr', () => {
  it('is infinite for identical tensors and drops by 6 dB when the error doubles', () => {
    const x = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i));
    const e1 = x.map((v, i) => v + (i % 2 ? 1e-3 : -1e-3));
    const e2 = x.map((v, i) => v + (i % 2 ? 2e-3 : -2e-3));
    expect(sqnr(x, x)).toBe(Infinity);
    expect(sqnr(x, e1) - sqnr(x, e2)).toBeCloseTo(20 * Math.log10(2), 3);
  });
});

describe('one-pass fold inside the known range', () => {
  it('gives exactly the two-pass result, and declines batches it cannot take', async () => {
    const { updateHistogramInRange } = await import('../../src/core');
    fc.assert(
      fc.property(
        fc.array(f32, { minLength: 1, maxLength: 300 }),
        fc.array(f32, { minLength: 1, maxLength: 300 }),
        (a, b) => {
          const first = updateHistogram(createHistogram(128), Float32Array.from(a));
          const batch = Float32Array.from(b);
          const fast = updateHistogramInRange(first, batch);
          const slow = updateHistogram(first, batch);
          const inside = b.every((v) => Math.abs(Math.fround(v)) <= first.threshold);
          if (!inside || first.threshold === 0) return fast === null;
          expect(fast).not.toBeNull();
          expect(Array.from(fast!.histogram.counts)).toEqual(Array.from(slow.counts));
          expect([fast!.histogram.min, fast!.histogram.max, fast!.histogram.total]).toEqual([
            slow.min,
            slow.max,
            slow.total,
          ]);
          return true;
        },
      ),
    );
  });
});
