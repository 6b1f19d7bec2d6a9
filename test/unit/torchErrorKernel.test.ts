/**
 * PyTorch HistogramObserver's quantization error from the WASM SIMD kernel (torchErrorKernel.wat)
 * against the JavaScript loop it replaces (torchHistogramError.ts): the same float32 total, bit for bit
 * (Object.is), on random and adversarial histograms: spikes, empty bins, all mass in one bin, huge,
 * subnormal and zero widths, startBin/endBin at the ends, destination bins on whole numbers of bins
 * (quotients exactly on integers, or one rounding off them) and quotients past 2^22, where floorDiv32
 * takes divFloor32 and the kernel its imported fallback (counted: the fallback must run).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/random';
import { torchErrorKernel } from '../../src/core/torchErrorKernel';
import {
  floorDiv32,
  forceTorchErrorKernel,
  torchErrorKernelKind,
  torchErrorTerms,
  torchQuantizationError,
} from '../../src/core/torchHistogramError';

const f32 = Math.fround;

/** A second instance of the kernel whose fallback floor is counted. */
let fallbacks = 0;
const counted = torchErrorKernel((a, b, inv) => {
  fallbacks++;
  return floorDiv32(a, b, inv);
});

const SHAPES = ['random', 'spike', 'one', 'sparse', 'fractional', 'tiny', 'empty-run'] as const;

function countsOf(bins: number, shape: (typeof SHAPES)[number], seed: number): Float32Array {
  const r = mulberry32(seed);
  const c = new Float32Array(bins);
  const at = Math.floor(r() * bins);
  for (let i = 0; i < bins; i++) {
    if (shape === 'random') c[i] = r() < 0.3 ? 0 : Math.floor(r() * 1e4);
    else if (shape === 'spike') c[i] = i === at ? 1e7 : r() < 0.5 ? 0 : 1;
    else if (shape === 'one') c[i] = i === at ? 123 : 0;
    else if (shape === 'sparse') c[i] = r() < 0.03 ? Math.floor(r() * 50) + 1 : 0;
    else if (shape === 'fractional')
      c[i] = f32(r() * 50); // a combined histogram's counts
    else if (shape === 'tiny')
      c[i] = r() < 0.5 ? 0 : f32(r() * 1e-40); // subnormal counts
    else c[i] = i > at && i < at + 37 ? 0 : Math.floor(r() * 9) + 1;
  }
  return c;
}

/** [min, max] as float32: ordinary, offset, huge (dst_bin_width past float32), subnormal and zero widths. */
const range = fc.oneof(
  fc.tuple(fc.float({ min: -10, max: 0, noNaN: true }), fc.float({ min: f32(1e-3), max: 10, noNaN: true })),
  fc.constantFrom<[number, number]>(
    [f32(1e6), f32(1e6 + 1)],
    [-3e38, 3e38].map(f32) as [number, number],
    [0, f32(1e-40)],
    [0, f32(1e-44)],
    [2, 2],
    [f32(-1e-30), f32(1e-30)],
    [0, 2048],
    [f32(-0.3), f32(0.7)],
  ),
);

const dstBinsArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(256) },
  { weight: 2, arbitrary: fc.constantFrom(1, 3, 128, 255) },
  { weight: 1, arbitrary: fc.constant(1 << 23) }, // quotients past 2^22: divFloor32 itself
);

const caseArb = fc
  .record({
    bins: fc.constantFrom(2048, 2048, 2048, 257, 100, 7, 5, 1),
    shape: fc.constantFrom(...SHAPES),
    seed: fc.integer(),
    range,
    dstBins: dstBinsArb,
    ends: fc.constantFrom('free', 'all', 'first', 'last', 'whole', 'half', 'double'),
    a: fc.double({ min: 0, max: 1, noNaN: true }),
    b: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ bins, shape, seed, range: [min, max], dstBins, ends, a, b }) => {
    let start = Math.min(bins - 1, Math.floor(a * bins));
    let end = Math.min(bins - 1, start + Math.floor(b * (bins - start)));
    if (ends === 'all') [start, end] = [0, bins - 1];
    else if (ends === 'first') end = start = 0;
    else if (ends === 'last') end = start = bins - 1;
    else if (ends === 'whole' || ends === 'half' || ends === 'double') {
      // a kept width of a whole number of destination bins (or half, or twice): bin edges on their edges
      const width = ends === 'whole' ? dstBins : ends === 'half' ? Math.max(1, dstBins >> 1) : dstBins * 2;
      start = Math.max(0, Math.min(start, bins - width));
      end = Math.min(bins - 1, start + width - 1);
    }
    return { counts: countsOf(bins, shape, seed), min, max, start, end, dstBins };
  });

function both(c: { counts: Float32Array; min: number; max: number; start: number; end: number; dstBins: number }) {
  forceTorchErrorKernel('js');
  const js = torchQuantizationError(c.counts, c.min, c.max, c.start, c.end, c.dstBins);
  forceTorchErrorKernel(null);
  const wasm = torchQuantizationError(c.counts, c.min, c.max, c.start, c.end, c.dstBins);
  const terms = torchErrorTerms(c.counts.length, c.min, c.max, c.start, c.end, c.dstBins);
  const direct = terms ? f32(counted.total(c.counts, terms)!) : 0;
  return { js, wasm, direct };
}

describe('HistogramObserver error kernel', () => {
  afterEach(() => forceTorchErrorKernel(null));

  it('loads in Node (the comparison is not JavaScript against itself)', () => {
    expect(torchErrorKernelKind()).toBe('wasm-simd');
    expect(counted.kind()).toBe('wasm-simd');
  });

  it('gives the JavaScript loop float32 total bit for bit, fallback floors included', () => {
    fallbacks = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const { js, wasm, direct } = both(c);
        // Object.is: -0 against +0 or a last-ulp difference fails
        expect(Object.is(wasm, js) ? js : [wasm, c]).toBe(js);
        expect(Object.is(direct, js) ? js : [direct, c]).toBe(js);
      }),
      { numRuns: 600 },
    );
    // the property reached floorDiv32's own path (quotients near an integer, past 2^22, or dw = 0)
    expect(fallbacks).toBeGreaterThan(0);
  });

  it('is exercised on finite, non-zero errors (the comparison is not 0 against 0)', () => {
    const c = {
      counts: countsOf(2048, 'random', 1),
      min: f32(-1.5),
      max: f32(2.5),
      start: 100,
      end: 1900,
      dstBins: 256,
    };
    const { js, wasm } = both(c);
    expect(js).toBeGreaterThan(0);
    expect(wasm).toBe(js);
  });

  it('keeps NaN where a bin ends past float32 (begin finite, end Infinity) and the mass stops there', () => {
    // over [-3e38, 3e38] bin 1161 begins at 3.40137e38 and its end overflows to Infinity: floorDiv32's
    // fmod gives NaN there (the kernel takes its own steps for a quotient that is not finite)
    const counts = new Float32Array(2048);
    counts[1161] = 5;
    for (const end of [2047, 1500, 1161, 700]) {
      const { js, wasm } = both({ counts, min: f32(-3e38), max: f32(3e38), start: 0, end, dstBins: 256 });
      expect(js).toBeNaN();
      expect(wasm).toBeNaN();
    }
  });

  it('copies the counts again for another histogram, and past one page of memory', () => {
    const arrays = [countsOf(2048, 'random', 3), countsOf(2048, 'sparse', 4), countsOf(20_000, 'random', 5)];
    for (let k = 0; k < 9; k++) {
      const counts = arrays[k % 3]!;
      const { js, wasm } = both({
        counts,
        min: -1,
        max: f32(3.3),
        start: k * 7,
        end: counts.length - 1 - k,
        dstBins: 256,
      });
      expect(Object.is(wasm, js) ? js : [k, wasm]).toBe(js);
    }
  });
});
