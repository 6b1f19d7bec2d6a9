/**
 * The L2 range search (PyTorch HistogramObserver's _non_linear_param_search) with its idle `beta`
 * steps taken in a tight loop, against the loop one PyTorch iteration at a time: the same errors
 * asked for in the same order, so the same kept bins, on random and adversarial histograms and with
 * both error functions (Quantscope's float64 one and PyTorch's float32 one).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  l2RangeSearch,
  l2RangeSearchStepwise,
  quantizationError,
  quantizationErrorByRuns,
} from '../../src/core/methods/mse';
import { torchQuantizationError } from '../../src/core/torchHistogram';
import { mulberry32 } from '../../src/core/random';

/** A 2048-bin histogram of one adversarial shape. */
function counts(seed: number, kind: number, bins: number): Float32Array {
  const rnd = mulberry32(seed);
  const c = new Float32Array(bins);
  const at = (i: number, v: number) => (c[Math.min(bins - 1, Math.max(0, Math.floor(i)))]! += v);
  switch (kind) {
    case 0: // all mass in one bin
      at(rnd() * bins, 1 + Math.floor(rnd() * 1e6));
      break;
    case 1: // a spike at either end over a sparse body
      for (let k = 0; k < 200; k++) at(rnd() * bins, 1 + Math.floor(rnd() * 5));
      at(rnd() < 0.5 ? 0 : bins - 1, 1e5);
      break;
    case 2: // two modes, empty between
      for (let k = 0; k < 5000; k++) at((rnd() < 0.5 ? 0.2 : 0.8) * bins + (rnd() - 0.5) * bins * 0.05, 1);
      break;
    case 3: // a Gaussian body with huge outliers (a range mostly empty)
      for (let k = 0; k < 5000; k++) {
        const g = Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
        at(bins / 2 + g * (bins / 400), 1);
      }
      at(0, 1);
      at(bins - 1, 1);
      break;
    case 6: // integer counts summing to 100000 in a few bins: float32 bounds land exactly on cumulative counts
      for (let k = 0; k < 9; k++) at(rnd() * bins, 10000);
      at(rnd() * bins, 5000);
      at(bins - 1 - rnd() * 4, 5000);
      break;
    case 4: // every bin, fractional counts (PyTorch's combined histograms)
      for (let i = 0; i < bins; i++) c[i] = Math.fround(rnd() * 10);
      break;
    default: // ReLU-like: an empty half, a decaying half
      for (let i = bins >> 1; i < bins; i++) c[i] = Math.floor(1e4 * Math.exp(-(i - bins / 2) / (bins / 20)));
  }
  return c;
}

function searchBoth(c: Float32Array, torch: boolean) {
  const f32 = Math.fround;
  const cum = new Float64Array(c.length);
  let acc = 0;
  for (let i = 0; i < c.length; i++) cum[i] = torch ? f32((acc += c[i]!)) : (acc += c[i]!);
  const total = torch ? f32(acc) : acc;
  const c64 = Float64Array.from(c);
  const asked: [string, number, number][] = [];
  const error = (tag: string) => (s: number, e: number) => {
    asked.push([tag, s, e]);
    return torch ? torchQuantizationError(c, -1.5, 2.5, s, e, 256) : quantizationError(c64, s, e, 4 / c.length, 256);
  };
  const threshold = torch ? f32 : undefined;
  const fast = l2RangeSearch(cum, total, error('fast'), threshold);
  const step = l2RangeSearchStepwise(cum, total, error('step'), threshold);
  const seq = (tag: string) => asked.filter((a) => a[0] === tag).map((a) => [a[1], a[2]]);
  return { fast, step, fastAsked: seq('fast'), stepAsked: seq('step') };
}

describe('L2 range search', () => {
  it('asks for the same errors in the same order and stops at the same bins and quantiles as the stepwise loop', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom(64, 2048),
        fc.boolean(),
        (seed, kind, bins, torch) => {
          const r = searchBoth(counts(seed, kind, bins), torch);
          expect(r.fastAsked).toEqual(r.stepAsked);
          expect(r.fast).toEqual(r.step);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('takes idle steps on a histogram whose end bins hold much of the mass (the case the loop skips)', () => {
    const c = new Float32Array(2048);
    c[0] = 3e5;
    c[2047] = 3e5;
    for (let i = 1; i < 2047; i++) c[i] = 100;
    const r = searchBoth(c, false);
    expect(r.fastAsked.length).toBeGreaterThan(1);
    expect(r.fast).toEqual(r.step);
  });
});

describe('the L2 error by runs of whole bins', () => {
  // quantizationErrorByRuns (one division-free term a bin, the cut bins by quantizationError's terms)
  // against quantizationError bin by bin: kept ranges from one bin to all of them, destination bins
  // fewer and more than the kept bins (a source bin cut by several boundaries), boundaries on bin edges
  it('equals the bin-by-bin error up to rounding', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom(64, 2048),
        fc.constantFrom(256, 16, 7, 4096),
        fc.double({ min: 1e-6, max: 1e3, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (seed, kind, bins, dstBins, width, a, b) => {
          const c = Float64Array.from(counts(seed, kind, bins));
          const s = Math.floor(Math.min(a, b) * (bins - 1));
          const e = Math.max(s, Math.floor(Math.max(a, b) * (bins - 1)));
          for (const [start, end] of [
            [s, e],
            [0, bins - 1],
            [e, e],
            [0, dstBins - 1 < bins ? dstBins - 1 : bins - 1], // boundaries on every bin edge
          ] as const) {
            const ref = quantizationError(c, start, end, width, dstBins);
            const runs = quantizationErrorByRuns(c, start, end, width, dstBins);
            expect(Math.abs(runs - ref)).toBeLessThanOrEqual(1e-10 * ref);
          }
          // the bound means something: the error is c·w² times a function of the bins, so a bin width one
          // part in a million off (an error 2e-6 off) is far outside it
          const ref = quantizationError(c, s, e, width, dstBins);
          const off = quantizationErrorByRuns(c, s, e, width * (1 + 1e-6), dstBins);
          expect(Math.abs(off - ref)).toBeGreaterThan(1e-10 * ref);
        },
      ),
      { numRuns: 300 },
    );
  });
});
