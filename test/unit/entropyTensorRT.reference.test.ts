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
