/**
 * The lab's trainer: analytic gradients against central finite differences, the straight-through
 * estimator, fake quantization on the grid, and the datasets.
 */
import { describe, expect, it } from 'vitest';
import { bitRange, fakeQuantize } from '../../src/core/quantize';
import { makeDataset } from '../../src/lab/train/datasets';
import { createAdam, trainStep } from '../../src/lab/train/adam';
import { quantizeActivation, quantizeWeights, steGradient, weightScale } from '../../src/lab/train/fakeQuant';
import { accuracy, createMlp, lossAndGradients } from '../../src/lab/train/mlp';

describe('gradients', () => {
  it('match central finite differences for every weight and bias (float network)', () => {
    const d = makeDataset('spiral', 40, 3);
    const m = createMlp([2, 5, 4, 2], 7);
    const { gw, gb } = lossAndGradients(m, d);
    const h = 1e-6;
    /** The worst relative gap between the given gradients and central finite differences of the loss. */
    const worstGap = (gws: readonly Float64Array[], gbs: readonly Float64Array[]) => {
      let worst = 0;
      const check = (p: Float64Array, g: Float64Array) => {
        for (let i = 0; i < p.length; i++) {
          const keep = p[i]!;
          p[i] = keep + h;
          const up = lossAndGradients(m, d).loss;
          p[i] = keep - h;
          const down = lossAndGradients(m, d).loss;
          p[i] = keep;
          const numeric = (up - down) / (2 * h);
          worst = Math.max(worst, Math.abs(numeric - g[i]!) / Math.max(1e-4, Math.abs(numeric) + Math.abs(g[i]!)));
        }
      };
      m.layers.forEach((l, k) => {
        check(l.w, gws[k]!);
        check(l.b, gbs[k]!);
      });
      return worst;
    };
    expect(worstGap(gw, gb)).toBeLessThan(1e-5);
    // a deliberately wrong gradient (the first layer's 10% off) fails the same finite-difference check
    const wrong = [gw[0]!.map((g) => g * 1.1), ...gw.slice(1)];
    expect(worstGap(wrong, gb)).toBeGreaterThan(1e-3);
  });

  it('training lowers the loss and learns the clusters', () => {
    const d = makeDataset('clusters', 200, 1);
    const m = createMlp([2, 8, 2], 1);
    const opt = createAdam(m);
    const first = trainStep(m, opt, d, null);
    let last = first;
    for (let s = 0; s < 100; s++) last = trainStep(m, opt, d, null);
    expect(last).toBeLessThan(first / 2);
    expect(accuracy(m, d)).toBeGreaterThan(0.9);
  });
});

describe('fake quantization and the straight-through estimator', () => {
  it('puts values on the grid, rounding half to even and saturating', () => {
    const { qmin, qmax } = bitRange(2, true, true);
    expect([qmin, qmax]).toEqual([-1, 1]);
    expect(fakeQuantize(0.5, 1, 0, qmin, qmax)).toBe(0); // tie to even
    expect(fakeQuantize(1.5, 1, 0, -8, 7)).toBe(2);
    expect(fakeQuantize(9, 1, 0, -8, 7)).toBe(7);
    expect(quantizeActivation(0.6, 2)).toBe(1);
    expect(quantizeActivation(0.4, 2)).toBe(0);
    expect(bitRange(8, false)).toEqual({ qmin: 0, qmax: 255 });
    expect(() => bitRange(0, true)).toThrow(/bit width/);
  });

  it('weights land on at most 2^b - 1 levels, at the least-squared-error scale', () => {
    const w = Float64Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7) * (i === 5 ? 4 : 1));
    for (const bits of [2, 4, 8]) {
      const q = quantizeWeights(w, bits);
      expect(new Set(q).size).toBeLessThanOrEqual(2 ** bits - 1);
      const s = weightScale(w, bits);
      const err = (scale: number) =>
        w.reduce((a, v) => a + (v - fakeQuantize(v, scale, 0, -(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1)) ** 2, 0);
      const amax = Math.max(...w.map(Math.abs));
      expect(err(s)).toBeLessThanOrEqual(err(amax / (2 ** (bits - 1) - 1)));
    }
  });

  it('passes gradients inside the clipping range and stops them outside', () => {
    expect(steGradient(0.3, -1, 1)).toBe(1);
    expect(steGradient(1, -1, 1)).toBe(1);
    expect(steGradient(1.2, -1, 1)).toBe(0);
    // through a quantized network, a clipped weight gets no gradient
    const d = makeDataset('xor', 30, 2);
    const m = createMlp([2, 32, 2], 3);
    const w = m.layers[0]!.w;
    for (let i = 0; i < w.length; i++) w[i] = i % 2 ? 1 : -1;
    w[0] = 3; // one weight well past the others: the least-error 2-bit grid clips it
    const { gw } = lossAndGradients(m, d, { bits: 2 });
    const clip = quantizeWeights(w, 2).clip!;
    expect(clip).toBeLessThan(3);
    expect(gw[0]![0]).toBe(0);
    expect(Math.abs(gw[0]![1]!)).toBeGreaterThan(0);
  });
});

describe('datasets', () => {
  it('are seeded, balanced and two-class', () => {
    for (const name of ['circles', 'spiral', 'xor', 'clusters'] as const) {
      const a = makeDataset(name, 100, 9);
      const b = makeDataset(name, 100, 9);
      expect(Array.from(a.points)).toEqual(Array.from(b.points));
      const ones = a.labels.reduce((s, v) => s + v, 0);
      expect(ones).toBeGreaterThan(30);
      expect(ones).toBeLessThan(70);
    }
  });
});
