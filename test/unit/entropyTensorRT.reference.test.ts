/**
 * TensorRT's entropy search against NVIDIA's pytorch-quantization (`_compute_amax_entropy`, run with
 * numpy 2.4 / scipy 1.17 on the reference kit's inputs: test/fixtures/reference/tensorrt-entropy.json),
 * and the |x| histogram it searches against numpy's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldIntoAbsHistogram, seedAbsHistogramFromZero } from '../../src/core/absHistogram';
import { entropyAmaxTensorRT, entropyRangeTensorRT } from '../../src/core/methods/entropyTensorRT';
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
