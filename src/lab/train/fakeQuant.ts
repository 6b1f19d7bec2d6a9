/** Fake quantization for the lab's MLP (see mlp.ts): the weight grid and scale, tanh activations, the straight-through estimator. */
import { bitRange, fakeQuantize } from '../../core/quantize';
import type { Mlp, Quantization } from './mlp';

/** The symmetric grid for b bits. */
function grid(bits: number): { qmin: number; qmax: number } {
  return bitRange(bits, true, bits > 1);
}

/** The weight scale for b bits: the least-squared-error one among 61 candidates, k/64 · max|w| / qmax for k = 64 down to 4. */
export function weightScale(w: Float64Array, bits: number): number {
  const { qmin, qmax } = grid(bits);
  let amax = 0;
  for (const v of w) amax = Math.max(amax, Math.abs(v));
  if (amax === 0) return 1;
  let best = amax / qmax;
  let bestErr = Infinity;
  for (let k = 64; k >= 4; k--) {
    const s = ((amax / qmax) * k) / 64;
    let err = 0;
    for (const v of w) err += (v - fakeQuantize(v, s, 0, qmin, qmax)) ** 2;
    if (err < bestErr) {
      bestErr = err;
      best = s;
    }
  }
  return best;
}

/** Fake-quantized weights of a layer, and the clipping range the straight-through estimator passes. */
export function quantizeWeights(w: Float64Array, bits: number): Float64Array & { readonly clip?: number } {
  const { qmin, qmax } = grid(bits);
  const scale = weightScale(w, bits);
  const out = w.map((v) => fakeQuantize(v, scale, 0, qmin, qmax)) as Float64Array & { clip?: number };
  out.clip = scale * qmax;
  return out;
}

/** Fake quantization of a tanh output on [-1, 1]. */
export function quantizeActivation(v: number, bits: number): number {
  const { qmin, qmax } = grid(bits);
  return fakeQuantize(v, 1 / Math.max(1, qmax), 0, qmin, qmax);
}

/** The straight-through estimator's gradient for a fake-quantized value: 1 inside the range, 0 outside. */
export function steGradient(v: number, lo: number, hi: number): number {
  return v >= lo && v <= hi ? 1 : 0;
}

/**
 * The bits of layer l's weights. With `edgeBits` the first and last layers keep that many (at least
 * `bits`), as deployments usually do: at 2 bits a first layer can only draw lines in four directions.
 */
export function layerBits(q: NonNullable<Quantization>, l: number, layers: number): number {
  return (l === 0 || l === layers - 1) && q.edgeBits ? Math.max(q.edgeBits, q.bits) : q.bits;
}

/** Every layer's weights as the forward pass uses them (fake-quantized when `q` is set). */
export function effectiveWeights(m: Mlp, q: Quantization): Float64Array[] {
  return m.layers.map((l, k) => (q ? quantizeWeights(l.w, layerBits(q, k, m.layers.length)) : l.w));
}
