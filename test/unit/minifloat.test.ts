/**
 * The narrow float formats against known encodings (IEEE 754 binary16, bfloat16 as float32's top
 * half, and ONNX's float8 tables: onnx/docs/technical/float8.md), round half to even at ties,
 * saturation as ONNX's Cast does it, and round trips of every 8-bit pattern.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { halfToFloat } from '../../src/core/float16';
import {
  BFLOAT16,
  decodeMiniFloat,
  encodeMiniFloat,
  FLOAT16,
  FLOAT8_E4M3FN,
  FLOAT8_E5M2,
  maxFinite,
  nonNegativeValues,
  roundToMiniFloat,
} from '../../src/core/minifloat';

describe('known encodings', () => {
  it.each([
    [FLOAT16, 1, 0x3c00],
    [FLOAT16, -2, 0xc000],
    [FLOAT16, 65504, 0x7bff],
    [FLOAT16, 2 ** -24, 0x0001],
    [FLOAT16, 2 ** -14, 0x0400],
    [FLOAT16, 0.333251953125, 0x3555],
    [FLOAT16, Infinity, 0x7c00],
    [FLOAT16, 65520, 0x7c00], // rounds up past the largest: Infinity (IEEE)
    [BFLOAT16, 1, 0x3f80],
    [BFLOAT16, -2, 0xc000],
    [BFLOAT16, 3.140625, 0x4049],
    [FLOAT8_E4M3FN, 1, 0x38],
    [FLOAT8_E4M3FN, 448, 0x7e],
    [FLOAT8_E4M3FN, -448, 0xfe],
    [FLOAT8_E4M3FN, 2 ** -9, 0x01],
    [FLOAT8_E4M3FN, 1e6, 0x7e], // saturates (Cast saturate=1)
    [FLOAT8_E4M3FN, 0.5, 0x30],
    [FLOAT8_E5M2, 1, 0x3c],
    [FLOAT8_E5M2, 57344, 0x7b],
    [FLOAT8_E5M2, 2 ** -16, 0x01],
    [FLOAT8_E5M2, -1e6, 0xfb],
  ] as const)('%#: encodes %s', (f, x, bits) => {
    expect(encodeMiniFloat(x, f)).toBe(bits);
  });

  it('has the documented largest values', () => {
    expect(maxFinite(FLOAT16)).toBe(65504);
    expect(maxFinite(FLOAT8_E4M3FN)).toBe(448);
    expect(maxFinite(FLOAT8_E5M2)).toBe(57344);
    expect(maxFinite(BFLOAT16)).toBe(3.3895313892515355e38);
  });

  it('without saturation, float8 overflows to NaN (E4M3FN) or Infinity (E5M2)', () => {
    expect(encodeMiniFloat(1000, FLOAT8_E4M3FN, false)).toBe(0x7f);
    expect(Number.isNaN(decodeMiniFloat(0x7f, FLOAT8_E4M3FN))).toBe(true);
    expect(encodeMiniFloat(1e6, FLOAT8_E5M2, false)).toBe(0x7c);
    expect(decodeMiniFloat(0x7c, FLOAT8_E5M2)).toBe(Infinity);
  });
});

describe('rounding', () => {
  it('rounds ties to even', () => {
    // between 1 and 1 + 2^-10 in float16, the midpoint goes to 1 (even mantissa)
    expect(roundToMiniFloat(1 + 2 ** -11, FLOAT16)).toBe(1);
    expect(roundToMiniFloat(1 + 3 * 2 ** -11, FLOAT16)).toBe(1 + 2 * 2 ** -10);
    // E4M3FN: 1.0625 lies between 1 and 1.125; ties go to 1
    expect(roundToMiniFloat(1.0625, FLOAT8_E4M3FN)).toBe(1);
    expect(roundToMiniFloat(1.1875, FLOAT8_E4M3FN)).toBe(1.25);
  });

  it('agrees with the float16 decoder and round-trips every float16 pattern', () => {
    for (let b = 0; b < 0x10000; b += 7) {
      const v = halfToFloat(b);
      expect(decodeMiniFloat(b, FLOAT16)).toEqual(v);
      if (Number.isFinite(v)) expect(encodeMiniFloat(v, FLOAT16)).toBe(b);
    }
  });

  it('round-trips every finite 8-bit pattern', () => {
    for (const f of [FLOAT8_E4M3FN, FLOAT8_E5M2]) {
      for (let b = 0; b < 256; b++) {
        const v = decodeMiniFloat(b, f);
        if (Number.isFinite(v)) expect(encodeMiniFloat(v, f), `${f.name} ${b}`).toBe(b);
      }
      expect(nonNegativeValues(f)[0]).toBe(0);
    }
  });

  it('bfloat16 equals float32 rounded to its top 16 bits, half to even', () => {
    fc.assert(
      fc.property(
        fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) }),
        (x) => {
          const u = new Uint32Array(Float32Array.of(x).buffer)[0]!;
          const lower = u & 0xffff;
          let top = u >>> 16;
          if (lower > 0x8000 || (lower === 0x8000 && top & 1)) top++;
          expect(encodeMiniFloat(x, BFLOAT16)).toBe(top & 0xffff);
        },
      ),
    );
  });
});

describe('fast float32 → float16 / bfloat16', () => {
  it('equal the general encoder on every float16 value, ties, subnormals, overflow and random floats', async () => {
    const { float32ToHalfBits, float32ToBfloat16Bits } = await import('../../src/core/minifloat');
    const values: number[] = [
      0,
      -0,
      65504,
      65519.99,
      65520,
      1e9,
      -1e9,
      2 ** -25,
      2 ** -24,
      3 * 2 ** -26,
      2 ** -26,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      6e-8,
      5.96e-8,
      Infinity,
      -Infinity,
    ];
    for (let b = 0; b < 0x7c00; b += 3) values.push(halfToFloat(b), -halfToFloat(b) * 1.0001);
    fc.assert(
      fc.property(fc.float({ noNaN: true }), (x) => {
        const f = Float32Array.of(x);
        expect(float32ToHalfBits(f)[0]).toBe(encodeMiniFloat(f[0]!, FLOAT16));
        expect(float32ToBfloat16Bits(f)[0]).toBe(encodeMiniFloat(f[0]!, BFLOAT16));
      }),
      { numRuns: 5000 },
    );
    const f = Float32Array.from(values);
    const fast = float32ToHalfBits(f);
    const fastBf = float32ToBfloat16Bits(f);
    f.forEach((x, i) => {
      expect(fast[i], `fp16 ${x}`).toBe(encodeMiniFloat(x, FLOAT16));
      expect(fastBf[i], `bf16 ${x}`).toBe(encodeMiniFloat(x, BFLOAT16));
    });
  });
});
