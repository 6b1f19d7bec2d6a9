/**
 * The entropy first pass's block sums from the WASM SIMD kernel (entropyBlocksKernel.wat) against the
 * JavaScript loop it replaces (entropyFastBlocks.ts): the same rows, bit for bit, in both layouts, with
 * empty blocks, levels within the log table and past it (v >= 4096: Math.log).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { blockSumsKernelKind, forceBlockSumsKernel } from '../../src/core/methods/entropyBlocksKernel';
import { buildBlockSums, SHORT_MIN_TOTAL } from '../../src/core/methods/entropyFastBlocks';
import { tablesOf } from '../../src/core/methods/entropyFastTables';

const BINS = 2048;

/** Integer counts: runs of empty bins, small counts, and counts large enough for levels past 4096. */
const histogram = fc
  .record({
    seed: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3e6 })), {
      minLength: 1,
      maxLength: 300,
    }),
    emptyRun: fc.integer({ min: 0, max: 200 }),
  })
  .map(({ seed, emptyRun }) => {
    const hist = new Float64Array(BINS);
    for (let k = 0; k < BINS; k++) hist[k] = k % (seed.length + emptyRun) < seed.length ? seed[k % seed.length]! : 0;
    return hist;
  });

function rowsOf(hist: Float64Array, m: number, lowPos: number, highPos: number, kind: 'js' | null) {
  forceBlockSumsKernel(kind);
  const t = tablesOf(hist)!;
  const g = buildBlockSums(t, m, lowPos, highPos);
  // rows 0..W are written; copied out of the reused buffer
  return { fields: g.fields, rows: g.rows.slice(0, (highPos - lowPos + 1) * g.fields) };
}

describe('entropy block sums kernel', () => {
  afterEach(() => forceBlockSumsKernel(null));

  it('loads in Node (the comparison is not JavaScript against itself)', () => {
    expect(blockSumsKernelKind()).toBe('wasm-simd');
  });

  it('builds the rows of the JavaScript loop bit for bit, both layouts', () => {
    const layouts = new Set<number>();
    fc.assert(
      fc.property(
        histogram,
        fc.integer({ min: 1, max: 17 }),
        fc.integer({ min: 0, max: BINS / 2 }),
        fc.integer({ min: 0, max: BINS }),
        (hist, m, lowPos, span) => {
          const highPos = Math.min(BINS, lowPos + m + span);
          const js = rowsOf(hist, m, lowPos, highPos, 'js');
          const wasm = rowsOf(hist, m, lowPos, highPos, null);
          layouts.add(js.fields);
          expect(wasm.fields).toBe(js.fields);
          // the same bits: compared as integers, so -0 against +0 or a last-ulp difference fails
          expect(new BigUint64Array(wasm.rows.buffer)).toEqual(new BigUint64Array(js.rows.buffer));
        },
      ),
      { numRuns: 80, seed: 16 },
    );
    expect([...layouts].sort()).toEqual([10, 7]);
  });

  it("covers levels at the log table's end and past it, and empty blocks, in both layouts", () => {
    // counts around the table's end (4094..4098: its last entry, then Math.log) and past it, small
    // ones, and gaps; the short layout's body dense, the full one's sparse (under SHORT_MIN_TOTAL)
    const short = new Float64Array(BINS);
    const full = new Float64Array(BINS);
    for (let k = 0; k < BINS; k++) {
      short[k] = k % 7 === 0 ? 0 : k % 3 === 0 ? 4094 + (k % 5) : k % 5 === 0 ? 5000 + k : 1 + (k % 11);
      full[k] = k % 97 === 0 ? 4094 + (k % 5) : k % 13 === 0 ? 1 + (k % 11) : 0;
    }
    expect(tablesOf(short)!.total).toBeGreaterThanOrEqual(SHORT_MIN_TOTAL);
    expect(tablesOf(full)!.total).toBeLessThan(SHORT_MIN_TOTAL);
    for (const hist of [short, full])
      for (const m of [1, 2, 5, 16]) {
        const js = rowsOf(hist, m, 3, BINS - 1, 'js');
        const wasm = rowsOf(hist, m, 3, BINS - 1, null);
        expect(new BigUint64Array(wasm.rows.buffer)).toEqual(new BigUint64Array(js.rows.buffer));
      }
  });
});
