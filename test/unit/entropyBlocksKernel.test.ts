/**
 * The entropy first pass's block sums and candidate scores from the WASM SIMD kernel
 * (entropyBlocksKernel.wat) against the JavaScript they replace (entropyFastBlocks.ts, entropyFast.ts):
 * the same rows and scores, bit for bit, in both layouts, with empty blocks, levels within the log
 * table and past it (v >= 4096: Math.log); and the search's range against the exhaustive one.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  blockSumsKernelKind,
  forceBlockSumsKernel,
  kernelLog,
  tablesWasm,
} from '../../src/core/methods/entropyBlocksKernel';
import { buildBlockSums, SHORT_MIN_TOTAL } from '../../src/core/methods/entropyFastBlocks';
import { tablesOf } from '../../src/core/methods/entropyFastTables';
import { entropyRangeOrt, entropyRangeOrtExhaustive, fastDivergences } from '../../src/core/methods/entropy';

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

/**
 * Histograms the fast pass finds hard: spikes, all the mass in one bin (the centre or an edge), empty
 * bins between two modes, huge outliers far from a narrow body, fractional counts (the series refused:
 * the kernel must answer as the JS does), sparse noise, and dense smooth bodies.
 */
const ADVERSARIAL_KINDS = ['spike', 'one-bin', 'two-modes', 'outliers', 'fractional', 'sparse', 'dense'] as const;
const adversarial = fc
  .record({
    kind: fc.constantFrom(...ADVERSARIAL_KINDS),
    bins: fc.constantFrom(256, 2048, 2301),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    size: fc.integer({ min: 1, max: 4e6 }),
    seed: fc.integer({ min: 1, max: 1e6 }),
  })
  .map(({ kind, bins, at, size, seed }) => {
    const hist = new Float64Array(bins);
    let r = seed;
    const rnd = () => (r = (r * 1103515245 + 12345) % 2147483648) / 2147483648;
    const centre = Math.floor(at * (bins - 1));
    const body = (width: number, mass: number) => {
      for (let k = -width; k <= width; k++) {
        const j = centre + k;
        if (j >= 0 && j < bins) hist[j]! += Math.floor(mass * Math.exp(-(k * k) / (2 * (width / 3 + 1) ** 2)));
      }
    };
    switch (kind) {
      case 'spike':
        body(Math.floor(bins / 8), 1 + (size % 1000));
        hist[centre]! += size;
        break;
      case 'one-bin':
        hist[seed % 3 === 0 ? 0 : seed % 3 === 1 ? bins - 1 : centre] = size;
        break;
      case 'two-modes':
        body(3, size);
        hist[(centre + (bins >> 1)) % bins]! += 1 + (size >> 3);
        break;
      case 'outliers':
        body(2, size);
        for (let k = 0; k < 1 + (seed % 5); k++) hist[Math.floor(rnd() * bins)]! += 1;
        break;
      case 'fractional':
        body(Math.floor(bins / 16), 50);
        hist[centre] = 1.5 + (seed % 3 === 0 ? -1 : 0); // 0.5: the series is refused; 1.5 is allowed
        break;
      case 'sparse':
        for (let k = 0; k < bins; k++) if (rnd() < 0.02) hist[k] = 1 + Math.floor(rnd() * (seed % 7 === 0 ? 1e6 : 9));
        break;
      default:
        for (let k = 0; k < bins; k++) hist[k] = 1 + Math.floor(rnd() * size);
    }
    if (hist.every((c) => c === 0)) hist[centre] = 1;
    return { kind, hist };
  });

/** A histogram state over [-1, 1] holding `counts`, its data filling the bins' range. */
function histogramState(counts: Float64Array) {
  const total = counts.reduce((a, b) => a + b, 0);
  return { counts, threshold: 1, min: -1, max: 1, total, nanCount: 0, binCount: counts.length, rebinned: 0 };
}

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

  it("builds the JS pass's tables bit for bit, its scores within 2e-13, and the exhaustive search's range", () => {
    const shapes = new Set<string>();
    fc.assert(
      fc.property(adversarial, fc.constantFrom(3, 16, 128), ({ kind, hist }, nq) => {
        shapes.add(kind);
        // the prefix sums first: tablesOf's, bit for bit (null alike for a count below 1)
        const fromJs = tablesOf(hist);
        const fromKernel = tablesWasm(hist);
        if (!fromJs || !fromKernel) expect(fromKernel).toBe(fromJs);
        else
          for (const key of ['hist', 'H', 'Z', 'A', 'L', 'R1', 'R2', 'R3'] as const)
            expect(new BigUint64Array(fromKernel[key].slice().buffer)).toEqual(
              new BigUint64Array(fromJs[key].slice().buffer),
            );
        forceBlockSumsKernel('js');
        const js = fastDivergences(hist, nq);
        forceBlockSumsKernel(null);
        const wasm = fastDivergences(hist, nq);
        if (!js || !wasm) {
          expect(wasm).toBe(js); // fractional counts: both refuse the series
        } else {
          // the kernel's own logarithm (within 2e-14, each weighted by <= ~1) moves a score by < 1e-13;
          // the candidates it leaves to the JS (NaN there) and the infinite ones are the same
          expect(wasm.length).toBe(js.length);
          for (let k = 0; k < js.length; k++) {
            if (!Number.isFinite(js[k]!)) expect(wasm[k]).toBe(js[k]);
            else expect(Math.abs(wasm[k]! - js[k]!)).toBeLessThan(2e-13);
          }
        }
        const state = { ...histogramState(hist) };
        const a = entropyRangeOrt(state, nq);
        const b = entropyRangeOrtExhaustive(state, nq);
        expect([a.rmin, a.rmax]).toEqual([b.rmin, b.rmax]);
      }),
      { numRuns: 40, seed: 1601 },
    );
    expect(shapes.size).toBe(ADVERSARIAL_KINDS.length);
  });

  it('takes logarithms within 2e-14 of Math.log for the scores, from 2^-64 to 2^64', () => {
    const within = (x: number, y: number) => {
      expect(Math.abs(kernelLog(x, y)! - Math.log(x))).toBeLessThan(2e-14);
      expect(Math.abs(kernelLog(y, x)! - Math.log(y))).toBeLessThan(2e-14);
    };
    // the ends of each table interval, powers of two and their neighbours, small integers and levels
    for (let j = 0; j <= 128; j++) within(1 + j / 128, 1 + (j + 0.5) / 128 - 1e-12);
    for (let e = -64; e <= 64; e++) within(2 ** e, 2 ** e * (1 - 2 ** -52));
    for (let v = 1; v < 5000; v += 7) within(v, v - 0.0099);
    fc.assert(
      fc.property(
        fc.double({ min: 2 ** -64, max: 2 ** 64, noNaN: true }),
        fc.double({ min: 0.5, max: 1e7, noNaN: true }),
        within,
      ),
      { numRuns: 2000, seed: 16 },
    );
  });
});
