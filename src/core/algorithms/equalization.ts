/**
 * Cross-layer equalization (Nagel et al. 2019, §4.1), as AIMET computes it (quic/aimet
 * ModelOptimizations/DlEqualization/src/ScaleFactorCalculator.cpp ForTwoConvLayers, commit
 * 2e6fd8c6b52af2c2291a88463ca89fd5968333aa; CrossLayerScaling.cpp scaleLayerParams, commit
 * 744f0a5d6d355ac66b77fd3e3b949eed9ba0f872): for two layers joined by a positively homogeneous
 * function f (f(s·x) = s·f(x) for s > 0: ReLU, PReLU, LeakyReLU, identity), with r1ᵢ = max|W1| over
 * output channel i of the first layer and r2ᵢ = max|W2| over input channel i of the second,
 * Sᵢ = r1ᵢ / sqrt(r1ᵢ·r2ᵢ) (= sqrt(r1ᵢ/r2ᵢ), Nagel's sᵢ; 1 where the product is 0), W1 and b1 divided
 * by Sᵢ along channel i, W2 multiplied by Sᵢ along its input channel i. Both ranges become sqrt(r1ᵢ·r2ᵢ)
 * and the float function is unchanged.
 */
import { axisGeometry } from '../quantize';

/** max|w| per index along `axis`. */
export function channelAbsMax(w: ArrayLike<number>, shape: readonly number[], axis: number): Float64Array {
  const { outer, channels, inner } = axisGeometry(shape, axis);
  const r = new Float64Array(channels);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let m = r[c]!;
      for (let i = 0; i < inner; i++) {
        const a = Math.abs(w[base + i]!);
        if (a > m) m = a;
      }
      r[c] = m;
    }
  return r;
}

/** AIMET's scaling factors S (float32, as AIMET's cv::Mat holds them). */
export function equalizationScales(r1: ArrayLike<number>, r2: ArrayLike<number>): Float32Array {
  const s = new Float32Array(r1.length);
  for (let i = 0; i < r1.length; i++) {
    const root = Math.fround(Math.sqrt(Math.fround(r1[i]! * r2[i]!)));
    s[i] = root !== 0 ? Math.fround(r1[i]! * Math.fround(1 / root)) : 1;
  }
  return s;
}

/** w · factor[c] (or w / factor[c] with `divide`) along `axis`, in a new float32 array. */
export function scaleAlongAxis(
  w: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
  factors: ArrayLike<number>,
  divide: boolean,
): Float32Array {
  const { outer, channels, inner } = axisGeometry(shape, axis);
  const out = new Float32Array(w.length);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < channels; c++) {
      const f = divide ? Math.fround(1 / factors[c]!) : factors[c]!;
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) out[base + i] = w[base + i]! * f;
    }
  return out;
}

export interface EqualizedPair {
  readonly w1: Float32Array;
  readonly b1: Float32Array | null;
  readonly w2: Float32Array;
  readonly scales: Float32Array;
}

/**
 * Equalizes one pair. `out1` is the axis of W1's output channels (Conv 0; MatMul [K, N] 1; Gemm with
 * transB 0), `in2` the axis of W2's input channels (Conv 1; MatMul 0; Gemm with transB 1).
 */
export function equalizePair(
  w1: ArrayLike<number>,
  shape1: readonly number[],
  out1: number,
  b1: ArrayLike<number> | null,
  w2: ArrayLike<number>,
  shape2: readonly number[],
  in2: number,
): EqualizedPair {
  const s = equalizationScales(channelAbsMax(w1, shape1, out1), channelAbsMax(w2, shape2, in2));
  return {
    w1: scaleAlongAxis(w1, shape1, out1, s, true),
    b1: b1 ? Float32Array.from(b1, (v, i) => v * Math.fround(1 / s[i]!)) : null,
    w2: scaleAlongAxis(w2, shape2, in2, s, false),
    scales: s,
  };
}
