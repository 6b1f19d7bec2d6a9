/**
 * TensorRT's entropy search with the candidates a lower bound rules out skipped (entropyTensorRTFast.ts):
 * the same amax as the exhaustive search on random and adversarial |x| histograms (spikes, all mass in
 * one bin, empty bins, two modes, huge outliers, exact ties), and the bound itself: below every
 * candidate's computed score once its rounding allowance is taken off, which it needs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldIntoAbsHistogram, seedAbsHistogramFromZero, type AbsHistogramState } from '../../src/core/absHistogram';
import { divergencesTensorRTByLevel, entropyAmaxTensorRT, prefixOf } from '../../src/core/methods/entropyTensorRT';
import {
  clipAllowance,
  clipBound,
  entropyAmaxTensorRTFast,
  searchTensorRT,
} from '../../src/core/methods/entropyTensorRTFast';
import { mulberry32, normalSampler } from '../../src/core/random';

const KINDS = 12;

/**
 * clipBound plus the first `depth` levels' own shares of the divergence, level by level (the bound the
 * search's rough pass checks every 16 levels, here from the logarithms directly): an oracle for its math.
 */
function chainBound(t: ReturnType<typeof prefixOf>, levels: number, i: number, depth: number): number {
  const { H, Z, A } = t;
  const total = H[t.bins.length]!;
  let s = 0;
  let cross = 0;
  for (let r = 0; r < depth; r++) {
    const e = Math.ceil(((r + 1) * i) / levels);
    const nz = Z[e]! - Z[s]!;
    if (nz !== 0) cross += (H[e]! - H[s]!) * Math.log((H[e]! - H[s]!) / nz);
    s = e;
  }
  return clipBound(t, levels, i) + (A[s]! - cross) / total;
}

/** A histogram of `bins` bins of one of KINDS shapes, from `seed`. */
function histogramOf(bins: number, kind: number, seed: number): AbsHistogramState {
  const r = mulberry32(seed);
  const h = seedAbsHistogramFromZero(1, bins);
  const c = h.counts;
  const spread = bins * (0.02 + r() * 0.3);
  const at = r() < 0.2 ? 0 : Math.floor(r() * bins); // 0: the first bin, which takes the second's count
  for (let j = 0; j < bins; j++) {
    const decay = Math.exp(-j / spread);
    if (kind === 0) c[j] = Math.floor(1e6 * decay * r());
    else if (kind === 1)
      c[j] = r() < 0.05 ? Math.floor(r() * 50) : 0; // sparse: many empty levels
    else if (kind === 2)
      c[j] = j % 7 === 0 ? 1 : 0; // spikes on a lattice: exact ties
    else if (kind === 3)
      c[j] = 1 + Math.floor(r() * 2); // tiny counts, near-ties
    else if (kind === 4)
      c[j] = j === at ? 1e6 : 0; // all mass in one bin
    else if (kind === 5)
      c[j] = Math.abs(j - bins / 3) < 20 || Math.abs(j - (2 * bins) / 3) < 20 ? 1000 : 0; // two modes
    else if (kind === 6)
      c[j] = j < 40 ? Math.floor(1e7 * r()) : 0; // the body in a few bins, far from the last
    else if (kind === 7)
      c[j] = Math.floor(2 ** 40 * decay); // huge counts
    else if (kind === 8)
      c[j] = j % 2 ? 0 : Math.floor(1e5 * decay) + 1; // every other bin empty
    else if (kind === 9)
      c[j] = 37; // uniform: the bound is the divergence itself, and candidates tie
    else if (kind === 10)
      c[j] = j === bins - 1 ? 1e9 : Math.floor(1e4 * decay); // a huge outlier in the last bin
    else c[j] = j < at ? 0 : Math.floor(1e4 * r()); // the low bins empty, the mass above
  }
  if (kind !== 4 && kind !== 6) c[bins - 1] = Math.max(c[bins - 1]!, 1);
  return { ...h, total: c.reduce((a, b) => a + b, 0) };
}

const OPTIONS = [{}, { unsigned: true }, { stride: 3, startBin: 200 }, { numBits: 4, startBin: 16 }, { startBin: 64 }];

describe("TensorRT entropy's pruned search", () => {
  it('returns the exhaustive search amax on random and adversarial histograms', () => {
    let candidates = 0;
    let skipped = 0;
    let ties = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(129, 200, 256, 300, 640, 1024, 1100, 2048),
        fc.integer({ min: 0, max: KINDS - 1 }),
        fc.integer(),
        fc.integer({ min: 0, max: OPTIONS.length - 1 }),
        (bins, kind, seed, o) => {
          const opts = OPTIONS[o]!;
          if ((opts.startBin ?? 128) > bins) return;
          const h = histogramOf(bins, kind, seed);
          const exact = entropyAmaxTensorRT(h, opts);
          const search = searchTensorRT(h, opts);
          expect(search.amax).toBe(exact.amax);
          candidates += search.candidates;
          skipped += search.skipped;
          const min = Math.min(...exact.divergences);
          if (exact.divergences.filter((d) => d === min).length > 1) ties++;
        },
      ),
      { numRuns: 400, seed: 16 },
    );
    expect(ties).toBeGreaterThan(0); // exact ties are among the cases: the last minimum must win
    expect(skipped).toBeGreaterThan(candidates / 4); // the bound does rule candidates out
  });

  it('skips most candidates of a Gaussian |x| with outliers, as det has, for the same amax', () => {
    const n = normalSampler(mulberry32(3));
    const r = mulberry32(4);
    const data = Float32Array.from({ length: 100_000 }, () => n() * (r() < 0.01 ? 20 : 1));
    let h = seedAbsHistogramFromZero(Math.max(...data.map(Math.abs)), 2048);
    h = foldIntoAbsHistogram(h, data);
    const search = searchTensorRT(h);
    expect(search.amax).toBe(entropyAmaxTensorRT(h).amax);
    expect(search.skipped).toBeGreaterThan(search.candidates / 2);
    expect(entropyAmaxTensorRTFast(h, { unsigned: true })).toBe(entropyAmaxTensorRT(h, { unsigned: true }).amax);
  });

  it("keeps the bounds, less their allowance, below every candidate's computed score; the allowance is needed", () => {
    let worst = -Infinity; // the most the float bound passes the float score, over the allowance
    let passed = 0;
    for (let k = 0; k < 60; k++) {
      const bins = [2048, 1024, 300, 129][k % 4]!;
      // uniform and near-uniform histograms with outliers: each level's bins alike, so the bound is
      // the divergence itself and only rounding tells them apart
      const h = histogramOf(bins, k % 3 === 0 ? 9 : [0, 3, 7, 8, 10][k % 5]!, k);
      if (k % 3 === 0) for (let j = bins - 40; j < bins; j++) h.counts[j] = 37 + (j === bins - 1 ? k * 1000 : 0);
      const hh = { ...h, total: h.counts.reduce((a, b) => a + b, 0) };
      const unsigned = k % 2 === 1;
      const levels = unsigned ? 256 : 128;
      const scores = divergencesTensorRTByLevel(hh, { unsigned });
      const t = prefixOf(hh.counts);
      const allowance = clipAllowance(bins, levels, t.H[bins]!);
      for (let c = 0; c < scores.length; c++) {
        const bound = clipBound(t, levels, 128 + c);
        const cheap = clipBound(t, levels, 128 + c, false);
        if (!Number.isFinite(scores[c]!)) {
          expect(bound).toBe(Infinity);
          continue;
        }
        expect(cheap).toBeLessThanOrEqual(bound + allowance); // the bound without logarithms is below
        for (const depth of [0, 16, 48, levels - 1]) {
          const chained = depth ? chainBound(t, levels, 128 + c, depth) : bound;
          if (chained > scores[c]!) passed++;
          worst = Math.max(worst, (chained - scores[c]!) / allowance);
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(0.01); // the allowance holds with room
    expect(passed).toBeGreaterThan(0); // the float bounds do pass the float score: the allowance is needed
  });
});
