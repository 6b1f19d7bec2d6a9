/**
 * TensorRT's entropy search against NVIDIA's pytorch-quantization (`_compute_amax_entropy`, run with
 * numpy 2.4 / scipy 1.17 on the reference kit's inputs: test/fixtures/reference/tensorrt-entropy.json),
 * and the |x| histogram it searches against numpy's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldIntoAbsHistogram, seedAbsHistogramFromZero } from '../../src/core/absHistogram';
import { entropyAmaxTensorRT } from '../../src/core/methods/entropyTensorRT';
import { entropyAmaxTensorRTFast, entropyRangeTensorRT } from '../../src/core/methods/entropyTensorRTFast';
import { FIXTURES, loadArray } from '../helpers/reference';

interface TrtCase {
  data: string[];
  unsigned: boolean;
  counts: number[];
  first_edges: number[];
  last_edge: number;
  amax: number;
  min_divergence: number;
  candidates: number;
}
const fixture = JSON.parse(readFileSync(join(FIXTURES, 'reference', 'tensorrt-entropy.json'), 'utf8')) as {
  cases: Record<string, TrtCase>;
};

function histogramOf(c: TrtCase) {
  const data = c.data.map((p) => loadArray(p).data);
  let amax = 0;
  for (const d of data) for (const v of d) amax = Math.max(amax, Math.abs(v));
  let h = seedAbsHistogramFromZero(amax, 2048);
  for (const d of data) h = foldIntoAbsHistogram(h, d);
  return h;
}

describe('TensorRT entropy matches pytorch-quantization', () => {
  it.each(Object.entries(fixture.cases))('%s', (_name, c) => {
    const h = histogramOf(c);
    expect(Array.from(h.counts)).toEqual(c.counts);
    expect([h.edges[0], h.edges[1], h.edges[2]]).toEqual(c.first_edges);
    expect(h.edges[2048]).toBe(c.last_edge);
    const r = entropyAmaxTensorRT(h, { unsigned: c.unsigned });
    expect(r.divergences.length).toBe(c.candidates);
    expect(Math.fround(r.amax)).toBe(Math.fround(c.amax));
    expect(Math.min(...r.divergences)).toBeCloseTo(c.min_divergence, 10);
    expect(entropyAmaxTensorRTFast(h, { unsigned: c.unsigned })).toBe(r.amax);
  });

  it('gives a symmetric range clamped to the data', () => {
    const c = fixture.cases.relu_like!;
    const r = entropyRangeTensorRT(histogramOf(c));
    expect(r.rmin).toBeGreaterThanOrEqual(0); // all-positive data keeps its own min
    expect(r.rmax).toBe(Math.fround(c.amax));
  });

  it('refuses an empty histogram and one with fewer bins than the first candidate', () => {
    expect(() => entropyAmaxTensorRT(seedAbsHistogramFromZero(1, 2048))).toThrow(/empty/);
    const small = foldIntoAbsHistogram(seedAbsHistogramFromZero(1, 64), [0.5, 0.25]);
    expect(() => entropyAmaxTensorRT(small)).toThrow(/first candidate/);
  });
});

describe("TensorRT entropy's width rows equal the level-by-level loop bit for bit", () => {
  it('on random, sparse, spiky and unsigned histograms', async () => {
    const { divergencesTensorRTByLevel } = await import('../../src/core/methods/entropyTensorRT');
    const { mulberry32 } = await import('../../src/core/random');
    const r = mulberry32(31);
    let compared = 0;
    for (let k = 0; k < 40; k++) {
      const bins = [2048, 1000, 300, 129][k % 4]!;
      const h = seedAbsHistogramFromZero(1, bins);
      const counts = h.counts;
      const kind = k % 5;
      for (let j = 0; j < bins; j++) {
        const decay = Math.exp(-j / (bins * (0.02 + r() * 0.3)));
        if (kind === 0) counts[j] = Math.floor(1e6 * decay * r());
        else if (kind === 1)
          counts[j] = r() < 0.05 ? Math.floor(r() * 50) : 0; // sparse: many empty levels
        else if (kind === 2)
          counts[j] = j % 7 === 0 ? 1 : 0; // spikes on a lattice
        else if (kind === 3)
          counts[j] = Math.floor(r() * 3); // tiny counts, ties
        else counts[j] = Math.floor(2 ** 40 * decay); // huge counts
      }
      counts[bins - 1] = Math.max(counts[bins - 1]!, 1);
      const total = counts.reduce((a, b) => a + b, 0);
      const hh = { ...h, total };
      for (const opts of [{}, { unsigned: true }, { stride: 3, startBin: 200 }, { numBits: 4, startBin: 16 }]) {
        if ((opts.startBin ?? 128) > bins) continue;
        const fast = entropyAmaxTensorRT(hh, opts).divergences;
        const ref = divergencesTensorRTByLevel(hh, opts);
        expect(fast.length).toBe(ref.length);
        for (let c = 0; c < ref.length; c++) if (!Object.is(fast[c], ref[c])) expect([c, fast[c]]).toEqual([c, ref[c]]);
        compared += ref.length;
      }
    }
    expect(compared).toBeGreaterThan(50_000);
  });
});

describe("TensorRT entropy's rough pass with exact re-scores", () => {
  it('keeps the exhaustive search amax on random, sparse, spiky, tied, two-mode and outlier histograms', async () => {
    const { mulberry32 } = await import('../../src/core/random');
    const r = mulberry32(77);
    let ties = 0;
    for (let k = 0; k < 120; k++) {
      const bins = [2048, 1100, 300, 129][k % 4]!;
      const h = seedAbsHistogramFromZero(1, bins);
      const counts = h.counts;
      const kind = k % 8;
      for (let j = 0; j < bins; j++) {
        const decay = Math.exp(-j / (bins * (0.02 + r() * 0.3)));
        if (kind === 0) counts[j] = Math.floor(1e6 * decay * r());
        else if (kind === 1)
          counts[j] = r() < 0.05 ? Math.floor(r() * 50) : 0; // sparse
        else if (kind === 2)
          counts[j] = j % 7 === 0 ? 1 : 0; // spikes on a lattice: exact ties
        else if (kind === 3)
          counts[j] = 1 + Math.floor(r() * 2); // tiny counts, near-ties
        else if (kind === 4)
          counts[j] = j === 5 ? 1e6 : 0; // all mass in one bin
        else if (kind === 5)
          counts[j] = Math.abs(j - bins / 3) < 20 || Math.abs(j - (2 * bins) / 3) < 20 ? 1000 : 0; // two modes
        else if (kind === 6)
          counts[j] = j < 40 ? Math.floor(1e7 * r()) : 0; // the body in a few bins, one far outlier below
        else counts[j] = Math.floor(2 ** 40 * decay); // huge counts
      }
      counts[bins - 1] = Math.max(counts[bins - 1]!, 1);
      const total = counts.reduce((a, b) => a + b, 0);
      const hh = { ...h, total };
      for (const opts of [{}, { unsigned: true }, { stride: 3, startBin: 200 }]) {
        if ((opts.startBin ?? 128) > bins) continue;
        const exact = entropyAmaxTensorRT(hh, opts);
        expect([k, entropyAmaxTensorRTFast(hh, opts)]).toEqual([k, exact.amax]);
        const d = exact.divergences;
        const min = Math.min(...d);
        if (d.filter((x) => x === min).length > 1) ties++;
      }
    }
    expect(ties).toBeGreaterThan(0); // exact ties are among the cases: the last minimum must win
  });

  it('scores every candidate within ROUGH_BOUND of its exact score, a bound the reordering needs', async () => {
    const { divergencesTensorRTByLevel } = await import('../../src/core/methods/entropyTensorRT');
    const { divergencesTensorRTRough, ROUGH_BOUND } = await import('../../src/core/methods/entropyTensorRTFast');
    const { mulberry32 } = await import('../../src/core/random');
    const r = mulberry32(5);
    let worst = 0;
    for (let k = 0; k < 30; k++) {
      const bins = [2048, 700, 300][k % 3]!;
      const h = seedAbsHistogramFromZero(1, bins);
      for (let j = 0; j < bins; j++)
        h.counts[j] = k % 2 ? Math.floor(1e6 * Math.exp(-j / (bins * 0.1)) * r()) : 1 + Math.floor(r() * 4);
      h.counts[bins - 1] = Math.max(1, h.counts[bins - 1]!);
      const hh = { ...h, total: h.counts.reduce((a, b) => a + b, 0) };
      const exact = divergencesTensorRTByLevel(hh);
      const { rough, scale } = divergencesTensorRTRough(hh);
      for (let c = 0; c < exact.length; c++) {
        if (!Number.isFinite(exact[c]!)) expect(rough[c]).toBe(exact[c]);
        else worst = Math.max(worst, Math.abs(rough[c]! - exact[c]!) / scale[c]!);
      }
    }
    expect(worst).toBeLessThanOrEqual(ROUGH_BOUND / 100); // the bound holds with room
    expect(worst).toBeGreaterThan(0); // the orders do differ: re-scoring within the bound is needed
  });

  it('takes the exhaustive search for fractional counts', () => {
    const h = seedAbsHistogramFromZero(1, 300);
    for (let j = 0; j < 300; j++) h.counts[j] = 0.25 + (j % 5) * 0.5;
    const hh = { ...h, total: h.counts.reduce((a, b) => a + b, 0) };
    expect(entropyAmaxTensorRTFast(hh)).toBe(entropyAmaxTensorRT(hh).amax);
  });
});
