/**
 * GPTQ, AdaRound, cross-layer equalization and SmoothQuant against the published reference code,
 * run on the same small inputs by the harness scripts/algorithm-references.py (which cites each commit);
 * its outputs are the fixtures under test/fixtures/algorithms. Tolerances are stated per case.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  accumulateRows,
  adaround,
  createMoments,
  dequantizeRounded,
  equalizePair,
  gptq,
  momentMatrix,
  smoothingScales,
  channelAbsMax,
} from '../../src/core/algorithms';
import { FIXTURES } from '../helpers/reference';

const fixture = <T>(name: string) => JSON.parse(readFileSync(join(FIXTURES, 'algorithms', name), 'utf8')) as T;

interface GptqFixture {
  rows: number;
  cols: number;
  n: number;
  W: number[];
  X: number[];
  percDamp: number;
  cases: {
    name: string;
    bits: number;
    symmetric: boolean;
    groupSize: number | null;
    blockSize: number;
    actOrder: boolean;
    Q: number[];
    loss: number;
  }[];
}

describe('GPTQ against IST-DASLab/gptq (fasterquant, float64 port)', () => {
  const f = fixture<GptqFixture>('gptq.json');
  const X = Float32Array.from(f.X);
  const moments = createMoments(f.cols);
  for (let b = 0; b < f.n; b += 32) accumulateRows(moments, X, 32, b * f.cols); // five batches, streamed
  // The reference's add_batch counts a 2-D batch as one sample (nsamples = 5 here, not 160 rows), so
  // its H is 2/5 · Σ x xᵀ; GPTQ is invariant to that scale up to rounding near ties, and its loss
  // scales with it. Same scale here; gptqHessian (2/rows) is what the engine uses.
  const H = momentMatrix(moments, 2 / (f.n / 32));
  for (const c of f.cases) {
    it(`${c.name}: every weight on the reference's grid point, loss within 1e-6`, () => {
      const dtype = c.bits === 8 ? (c.symmetric ? 'int8' : 'uint8') : c.symmetric ? 'int4' : 'uint4';
      const r = gptq(Float32Array.from(f.W), f.rows, f.cols, H, {
        dtype,
        symmetric: c.symmetric,
        groupSize: c.groupSize,
        blockSize: c.blockSize,
        percDamp: f.percDamp,
        actOrder: c.actOrder,
      });
      const q = dequantizeRounded(r);
      let worst = 0;
      for (let i = 0; i < q.length; i++)
        worst = Math.max(worst, Math.abs(q[i]! - c.Q[i]!) / Math.max(1e-3, Math.abs(c.Q[i]!)));
      // scales are stored float32 here (float64 in the port): 1e-6 relative on each dequantized weight
      // (one grid step is > 5%: any code that differs fails)
      expect(worst).toBeLessThan(1e-6);
      expect(Math.abs(r.loss - c.loss) / c.loss).toBeLessThan(1e-6);
    });
  }
});

describe('AdaRound against AIMET (full-batch, float64 port)', () => {
  const f = fixture<{
    rows: number;
    cols: number;
    n: number;
    W: number[];
    X: number[];
    cases: { iterations: number; Q: number[]; reconBefore: number; reconAfter: number }[];
  }>('adaround.json');
  const m = createMoments(f.cols);
  accumulateRows(m, Float32Array.from(f.X), f.n);
  const M = momentMatrix(m, 1 / f.n);
  for (const c of f.cases) {
    it(`${c.iterations} iterations: the same up/down choices and reconstruction loss within 1e-6`, () => {
      const r = adaround(Float32Array.from(f.W), f.rows, f.cols, M, {
        dtype: 'int4',
        symmetric: true,
        groupSize: null,
        iterations: c.iterations,
      });
      const q = dequantizeRounded(r);
      let differ = 0;
      for (let i = 0; i < q.length; i++) if (Math.abs(q[i]! - c.Q[i]!) > 1e-6 * Math.abs(c.Q[i]!) + 1e-9) differ++;
      expect(differ).toBe(0);
      // round-to-nearest before: one weight (row 0's largest magnitude) sits at exactly −7.5 steps of the
      // port's float64 scale 2·max|w|/15 and rounds to −8; over the float32 scale QuantizeLinear stores it
      // is −7.4999996 and rounds to −7. That one code moves the loss by 7e-4.
      expect(Math.abs(r.reconBefore - c.reconBefore) / c.reconBefore).toBeLessThan(1e-3);
      expect(Math.abs(r.reconAfter - c.reconAfter) / c.reconAfter).toBeLessThan(1e-6);
      expect(r.reconAfter).toBeLessThan(r.reconBefore);
    });
  }
});

describe('cross-layer equalization against AIMET (ScaleFactorCalculator, CrossLayerScaling)', () => {
  const f = fixture<Record<string, number[]>>('cle.json');
  it('the same scales and equalized weights and bias, bit for bit in float32', () => {
    const f32 = (a: number[] | undefined) => Float32Array.from(a!);
    const e = equalizePair(f32(f.w1), f.shape1!, 0, f32(f.b1), f32(f.w2), f.shape2!, 1);
    expect(Array.from(e.scales)).toEqual(f.scales!.map(Math.fround));
    expect(Array.from(e.w1)).toEqual(f.w1Equalized!.map(Math.fround));
    expect(Array.from(e.b1!)).toEqual(f.b1Equalized!.map(Math.fround));
    expect(Array.from(e.w2)).toEqual(f.w2Equalized!.map(Math.fround));
    // the point of it: both layers' channel ranges become sqrt(r1·r2)
    const r1 = channelAbsMax(e.w1, f.shape1!, 0);
    const r2 = channelAbsMax(e.w2, f.shape2!, 1);
    for (let i = 0; i < r1.length; i++) expect(r1[i]!).toBeCloseTo(r2[i]!, 5);
  });
});

describe('SmoothQuant against mit-han-lab/smoothquant (smooth_ln_fcs)', () => {
  const f = fixture<Record<string, number[] | number>>('smoothquant.json');
  it('the same smoothing scales (float32, 1e-6 relative)', () => {
    const d = f.d as number;
    const out = f.out as number;
    const w = f.fcWeight as number[]; // torch Linear [out, d]: input channel j is column j
    const wAbs = channelAbsMax(w, [out, d], 1);
    const s = smoothingScales(f.actAbsMax as number[], wAbs, f.alpha as number);
    const ref = f.scales as number[];
    for (let j = 0; j < d; j++) expect(Math.abs(s[j]! - ref[j]!) / ref[j]!).toBeLessThan(1e-6);
    const gs = f.gammaSmoothed as number[];
    for (let j = 0; j < d; j++) expect(Math.fround((f.gamma as number[])[j]! / s[j]!)).toBeCloseTo(gs[j]!, 6);
  });
});
