/** Properties of the weight-rounding and equalization algorithms on small layers (core/algorithms). */
import { describe, expect, it } from 'vitest';
import {
  accumulateRows,
  adaround,
  biasCorrection,
  choleskyInverse,
  choleskyLower,
  createMoments,
  dequantizeRounded,
  equalizePair,
  gptq,
  gptqHessian,
  im2colRowCount,
  im2colRows,
  meanInput,
  momentMatrix,
  reconstructionError,
  roundToNearest,
  type ConvGeometry,
} from '../../src/core/algorithms';
import { mulberry32, normalSampler } from '../../src/core/random';

const randn = (seed: number, n: number, scale = 1) => {
  const g = normalSampler(mulberry32(seed));
  return Float32Array.from({ length: n }, () => g() * scale);
};

/** Correlated inputs with outlier channels: what makes GPTQ's error feedback pay. */
function inputs(seed: number, n: number, cols: number): Float32Array {
  const z = randn(seed, n * cols);
  const x = new Float32Array(n * cols);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < cols; c++) {
      const prev = c > 0 ? x[r * cols + c - 1]! : 0;
      x[r * cols + c] = 0.7 * prev + z[r * cols + c]! * (c % 9 === 0 ? 6 : 1);
    }
  return x;
}

describe('linear algebra', () => {
  it('the Cholesky inverse times the matrix is the identity (1e-10)', () => {
    const n = 12;
    const x = inputs(1, 40, n);
    const m = createMoments(n);
    accumulateRows(m, x, 40);
    const a = momentMatrix(m, 1 / 40);
    const inv = choleskyInverse(choleskyLower(a, n), n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k]! * inv[k * n + j]!;
        expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-10);
      }
  });

  it('a matrix that is not positive definite is refused with a coded error', () => {
    expect(() => choleskyLower(Float64Array.of(1, 2, 2, 1), 2)).toThrow(/not positive definite/);
  });
});

describe('GPTQ', () => {
  const rows = 24;
  const cols = 72;
  const n = 400;
  const w = randn(7, rows * cols, 0.1);
  const x = inputs(8, n, cols);
  const m = createMoments(cols);
  accumulateRows(m, x, n);
  const H = gptqHessian(m);

  it('with uncorrelated inputs (a diagonal Hessian) it is round-to-nearest, code for code', () => {
    const d = new Float64Array(cols * cols);
    for (let i = 0; i < cols; i++) d[i * cols + i] = 1 + i;
    const o = { dtype: 'int4', symmetric: true, groupSize: 32 } as const;
    expect(Array.from(gptq(w, rows, cols, d, o).q)).toEqual(Array.from(roundToNearest(w, rows, cols, o).q));
  });

  for (const o of [
    { dtype: 'int4', symmetric: true, groupSize: null },
    { dtype: 'int4', symmetric: true, groupSize: 32 },
    { dtype: 'uint4', symmetric: false, groupSize: 16 },
    { dtype: 'int8', symmetric: true, groupSize: null },
  ] as const) {
    it(`${o.dtype} ${o.symmetric ? 'sym' : 'asym'} ${o.groupSize ?? 'per channel'}: calibration loss at most 0.6 of round-to-nearest's`, () => {
      const rtn = reconstructionError(w, dequantizeRounded(roundToNearest(w, rows, cols, o)), rows, cols, H);
      for (const actOrder of [false, true]) {
        const g = gptq(w, rows, cols, H, { ...o, actOrder });
        const loss = reconstructionError(w, dequantizeRounded(g), rows, cols, H);
        expect(loss).toBeLessThan(0.6 * rtn);
      }
    });
  }

  it('a Hessian of the wrong size is refused', () => {
    expect(() => gptq(w, rows, cols, new Float64Array(4), { dtype: 'int4', symmetric: true, groupSize: null })).toThrow(
      /Hessian/,
    );
  });
});

describe('AdaRound', () => {
  it('lowers the hard-rounded reconstruction loss below round-to-nearest on correlated inputs', () => {
    const rows = 8;
    const cols = 48;
    const w = randn(3, rows * cols, 0.2);
    const m = createMoments(cols);
    accumulateRows(m, inputs(4, 300, cols), 300);
    const r = adaround(w, rows, cols, momentMatrix(m, 1 / 300), {
      dtype: 'int4',
      symmetric: true,
      groupSize: null,
      iterations: 300,
    });
    expect(r.reconAfter).toBeLessThan(0.8 * r.reconBefore);
    // every code is floor or ceil of w/s (AdaRound only chooses the direction)
    const s = r.scales;
    for (let i = 0; i < w.length; i++) {
      const v = w[i]! / s[Math.floor(i / cols)]!;
      expect(r.q[i]! >= Math.floor(v) && r.q[i]! <= Math.ceil(v)).toBe(true);
    }
  });
});

describe('bias correction', () => {
  it('zeroes the mean output error on its calibration data', () => {
    const rows = 10;
    const cols = 30;
    const n = 200;
    const w = randn(11, rows * cols, 0.3);
    const x = inputs(12, n, cols).map((v) => v + 0.8); // inputs with a mean, as after a ReLU
    const m = createMoments(cols);
    accumulateRows(m, x, n);
    const q = dequantizeRounded(roundToNearest(w, rows, cols, { dtype: 'int4', symmetric: true, groupSize: null }));
    const corr = biasCorrection(w, q, rows, cols, meanInput(m));
    const meanErr = (c: Float64Array | null) => {
      let worst = 0;
      for (let r = 0; r < rows; r++) {
        let e = 0;
        for (let i = 0; i < n; i++) {
          let d = c ? -c[r]! : 0;
          for (let k = 0; k < cols; k++) d += (q[r * cols + k]! - w[r * cols + k]!) * x[i * cols + k]!;
          e += d / n;
        }
        worst = Math.max(worst, Math.abs(e));
      }
      return worst;
    };
    expect(meanErr(null)).toBeGreaterThan(1e-2);
    expect(meanErr(corr)).toBeLessThan(1e-9);
  });
});

describe('cross-layer equalization', () => {
  it('keeps Gemm → ReLU → Gemm outputs within 1e-5 while evening out the channel ranges', () => {
    const [a, b, c] = [6, 5, 4]; // x [a] → W1 [b, a] → relu → W2 [c, b]
    const w1 = randn(21, b * a).map((v, i) => v * (i < a ? 20 : 0.05));
    const b1 = randn(22, b);
    const w2 = randn(23, c * b);
    const e = equalizePair(w1, [b, a], 0, b1, w2, [c, b], 1);
    const run = (W1: Float32Array, B1: Float32Array, W2: Float32Array, x: Float32Array) =>
      Array.from({ length: c }, (_, o) => {
        let y = 0;
        for (let j = 0; j < b; j++) {
          let h = B1[j]!;
          for (let i = 0; i < a; i++) h += W1[j * a + i]! * x[i]!;
          y += W2[o * b + j]! * Math.max(0, h);
        }
        return y;
      });
    for (let t = 0; t < 20; t++) {
      const x = randn(100 + t, a);
      const y0 = run(w1, b1, w2, x);
      const y1 = run(e.w1, e.b1!, e.w2, x);
      for (let o = 0; o < c; o++) expect(Math.abs(y1[o]! - y0[o]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(y0[o]!)));
    }
  });
});

describe('im2col', () => {
  it('rows · W_flatᵀ is the direct convolution (group 2, stride 2, padding, dilation)', () => {
    const g: ConvGeometry = {
      n: 2,
      c: 4,
      h: 7,
      w: 6,
      group: 2,
      kh: 3,
      kw: 2,
      strides: [2, 1],
      dilations: [1, 2],
      pads: [1, 0, 1, 1],
    };
    const x = randn(5, g.n * g.c * g.h * g.w);
    const cols = (g.c / g.group) * g.kh * g.kw;
    const wt = randn(6, cols);
    const rows = im2colRowCount(g);
    const buf = new Float64Array(rows * cols);
    im2colRows(x, g, 1, 0, rows, buf);
    const oh = Math.floor((g.h + 2 - 3) / 2) + 1;
    const ow = Math.floor((g.w + 1 - 2 * 1 - 1) / 1) + 1;
    expect(rows).toBe(g.n * oh * ow);
    for (let r = 0; r < rows; r++) {
      const b = Math.floor(r / (oh * ow));
      const oy = Math.floor((r % (oh * ow)) / ow);
      const ox = r % ow;
      let direct = 0;
      for (let ci = 0; ci < 2; ci++)
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 2; j++) {
            const y = oy * 2 - 1 + i;
            const xx = ox - 0 + j * 2;
            if (y >= 0 && y < g.h && xx >= 0 && xx < g.w)
              direct += wt[(ci * 3 + i) * 2 + j]! * x[((b * g.c + 2 + ci) * g.h + y) * g.w + xx]!;
          }
      let viaRows = 0;
      for (let k = 0; k < cols; k++) viaRows += buf[r * cols + k]! * wt[k]!;
      expect(viaRows).toBeCloseTo(direct, 5);
    }
  });
});
