/**
 * PyTorch's HistogramObserver and weight observers, reproduced in core, against PyTorch 1.13 itself
 * (scripts/pytorch-fixtures.py → test/fixtures/pytorch/observers.json): the tensors each observer of
 * the textbook eager example saw, call by call, give the same min_val/max_val, searched range, scale
 * and zero point, to the bit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { torchQParams } from '../../src/core/pytorch';
import {
  createTorchHistogram,
  observeTorchHistogram,
  torchHistc,
  torchHistcReference,
  torchHistogramRange,
  type TorchHistogramState,
} from '../../src/core/torchHistogram';
import { quantizeWeightPerChannel, quantizeWeightPerTensor } from '../../src/core/weights';
import { FIXTURES } from '../helpers/reference';
import { loadPytorchFixture } from '../helpers/pytorchFixture';

const fx = loadPytorchFixture();

function observe(seen: number[][]): TorchHistogramState {
  let h = createTorchHistogram();
  for (const x of seen) h = observeTorchHistogram(h, Float32Array.from(x));
  return h;
}

describe('HistogramObserver (PyTorch 1.13) in core', () => {
  for (const [backend, b] of Object.entries(fx.backends)) {
    for (const [name, o] of Object.entries(b.activations)) {
      it(`${backend} ${name}: min/max, searched range, scale and zero point equal PyTorch's`, () => {
        const h = observe(fx.observerInputs[name]!);
        expect(h.calls).toBe(100);
        expect([h.min, h.max]).toEqual([o.minVal, o.maxVal]);
        expect(h.counts.reduce((a, v) => a + v, 0)).toBeCloseTo(o.histogramSum!, 3);
        const r = torchHistogramRange(h);
        expect([r.rmin, r.rmax]).toEqual(o.searched);
        const p = torchQParams(r.rmin, r.rmax, { dtype: 'quint8', reduceRange: o.reduceRange });
        expect(p.scale).toBe(o.scale);
        expect(p.zeroPoint).toBe(o.zeroPoint);
      });
    }
  }

  it('bins over int(min), int(max) as 1.13 does: values beyond the truncated ends are not counted', () => {
    // [-1.5, 2.5] truncates to [-1, 2]: -1.5 and 2.5 fall outside and are dropped
    const h = observeTorchHistogram(createTorchHistogram(8), Float32Array.of(-1.5, -0.5, 0.5, 2, 2.5));
    expect(h.counts.reduce((a, v) => a + v, 0)).toBe(3);
    expect([h.min, h.max]).toEqual([-1.5, 2.5]);
    // both ends truncate to 0: histc falls back to the data's own min and max
    expect(Array.from(torchHistc(Float32Array.of(-0.5, 0.25, 0.5), 4, 0, 0))).toEqual([1, 0, 0, 2]);
  });

  it('a broken combine fails the comparison: the observer is not min-max in disguise', () => {
    const seen = fx.observerInputs['quant.activation_post_process']!;
    // only the first call, then only the last: different histograms, different ranges
    const one = torchHistogramRange(observe(seen.slice(0, 1)));
    const o = fx.backends.fbgemm!.activations['quant.activation_post_process']!;
    expect([one.rmin, one.rmax]).not.toEqual(o.searched);
  });

  it('the fast bin search equals the float32 formula element for element, on values at and beside every edge', () => {
    for (const [lo, hi, bins] of [
      [-3, 5, 2048],
      [0, 1, 2048],
      [-7, -2, 256],
      [-1e-3, 2e-3, 2048],
    ] as const) {
      const data: number[] = [];
      const width = Math.fround(hi - lo);
      for (let b = 0; b <= bins; b++) {
        // the float32 values whose float32 quotient lands nearest to b, and their neighbours
        const e = Math.fround(lo + (b * width) / bins);
        const f = new Float32Array([e]);
        const u = new Int32Array(f.buffer);
        for (let d = -3; d <= 3; d++) {
          const g = new Int32Array([u[0]! + d]);
          data.push(new Float32Array(g.buffer)[0]!);
        }
        data.push(Math.fround(lo + ((b + 0.37) * width) / bins));
      }
      const x = Float32Array.from(data);
      expect(Array.from(torchHistc(x, bins, lo, hi))).toEqual(
        Array.from(torchHistcReference(x, bins, Math.fround(lo), Math.fround(hi))),
      );
    }
  });

  it('NaN is refused by name, as PyTorch cannot bin it either', () => {
    expect(() => observeTorchHistogram(createTorchHistogram(), Float32Array.of(1, NaN), 'fc1_out')).toThrow(
      /fc1_out contains NaN/,
    );
  });
});

describe('weight observers (PerChannelMinMaxObserver, MinMaxObserver; qint8 symmetric)', () => {
  const model = readFileSync(join(FIXTURES, 'pytorch', fx.model));
  it('the fixture model is there', () => expect(model.length).toBeGreaterThan(100));
  for (const [backend, b] of Object.entries(fx.backends)) {
    for (const [mod, w] of Object.entries(b.weights)) {
      it(`${backend} ${mod}: scales, zero points and int8 codes equal PyTorch's`, () => {
        const { data, shape } = fx.weight(mod);
        const opts = { dtype: 'int8', symmetric: true, convention: 'pytorch' } as const;
        const q =
          w.observer === 'PerChannelMinMaxObserver'
            ? quantizeWeightPerChannel(data, shape, 0, opts)
            : quantizeWeightPerTensor(data, opts);
        expect(Array.from(q.scales)).toEqual(w.scales);
        expect(Array.from(q.zeroPoints)).toEqual(w.zeroPoints);
        expect(Array.from(q.data)).toEqual(w.codes);
      });
    }
  }
});
