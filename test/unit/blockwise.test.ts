/**
 * Block-wise quantization: the in-place [K, N] path equals the row path on the transposed matrix;
 * codes land on the dtype's grid and dequantize within half a step; MatMulNBits' symmetric convention
 * puts each block's signed extreme exactly on code 0.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dequantizeBlockwise, quantizeBlockwise, quantizeBlockwiseColumns } from '../../src/core/blockwise';
import { mulberry32, normalSampler } from '../../src/core/random';

function matrix(seed: number, rows: number, cols: number): Float32Array {
  const n = normalSampler(mulberry32(seed));
  return Float32Array.from({ length: rows * cols }, (_, i) => n() * (i % 7 === 0 ? 5 : 1));
}

function transpose(a: ArrayLike<number>, rows: number, cols: number): number[] {
  const out = new Array<number>(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

describe('block-wise quantization', () => {
  it('quantizes a [K, N] weight in place exactly as the rows of its transpose', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(16, 32, 64),
        fc.constantFrom('int8', 'uint8', 'int4', 'uint4') as fc.Arbitrary<'int8' | 'uint8' | 'int4' | 'uint4'>,
        fc.boolean(),
        (seed, k, n, block, dtype, symmetric) => {
          const w = matrix(seed, k, n); // [K, N]
          const cols = quantizeBlockwiseColumns(w, k, n, block, { dtype, symmetric });
          const rows = quantizeBlockwise(Float32Array.from(transpose(w, k, n)), n, k, block, {
            dtype,
            symmetric,
            convention: 'qdq',
          });
          expect(Array.from(cols.scales)).toEqual(Array.from(rows.scales));
          expect(Array.from(cols.zeroPoints)).toEqual(Array.from(rows.zeroPoints));
          expect(Array.from(cols.q)).toEqual(transpose(rows.q, n, k));
          expect(Array.from(dequantizeBlockwise(cols))).toEqual(transpose(dequantizeBlockwise(rows), n, k));
        },
      ),
      { numRuns: 80 },
    );
  });

  it('dequantizes within half a step of the input, inside the range', () => {
    const w = matrix(3, 8, 96);
    const b = quantizeBlockwise(w, 8, 96, 32, { dtype: 'int4', symmetric: true, convention: 'qdq' });
    const d = dequantizeBlockwise(b);
    for (let i = 0; i < w.length; i++) {
      const s = b.scales[Math.floor(i / 96) * 3 + Math.floor((i % 96) / 32)]!;
      expect(Math.abs(d[i]! - w[i]!)).toBeLessThanOrEqual(s / 2 + 1e-6);
    }
  });

  it("MatMulNBits' symmetric convention maps each block's signed extreme to code 0", () => {
    const w = Float32Array.from({ length: 32 }, (_, i) => (i === 5 ? -3 : Math.sin(i)));
    const b = quantizeBlockwise(w, 1, 32, 32, { dtype: 'uint4', symmetric: true, convention: 'matmulnbits' });
    expect(b.scales[0]).toBe(Math.fround(-3 / -8));
    expect(b.q[5]).toBe(0);
    expect(b.zeroPoints[0]).toBe(8);
  });

  it('refuses NaN and a block size that is not a power of two', () => {
    expect(() =>
      quantizeBlockwise(Float32Array.of(1, NaN), 1, 2, 16, { dtype: 'int8', symmetric: true, convention: 'qdq' }),
    ).toThrow(/NaN/);
    expect(() =>
      quantizeBlockwiseColumns(Float32Array.of(1, Infinity), 2, 1, 16, { dtype: 'int8', symmetric: true }),
    ).toThrow(/Infinity/);
    expect(() =>
      quantizeBlockwise(new Float32Array(48), 1, 48, 48, { dtype: 'int8', symmetric: true, convention: 'qdq' }),
    ).toThrow(/power of two/);
  });
});
