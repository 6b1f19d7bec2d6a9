/**
 * A small multilayer perceptron for 2-D classification, trained in pure TypeScript (float64), with
 * optional fake quantization of weights and hidden activations at any bit width:
 *  - weights: per-tensor symmetric on the restricted grid [-(2^(b-1) - 1), 2^(b-1) - 1], the scale the
 *    one of 61 candidates (k/64 · max|w| / qmax, k = 64 down to 4) that gives the least squared error (an MSE search:
 *    at 2 bits max|w| would round most weights to zero), recomputed every step;
 *  - hidden activations: tanh outputs on the fixed range [-1, 1], same grid;
 *  - the backward pass treats fake quantization as the identity inside the clipping range and zero
 *    outside it: the straight-through estimator (Bengio et al. 2013; Jacob et al. 2018).
 * Post-training quantization evaluates a float-trained net with quantization on; quantization-aware
 * training keeps it on while training, so the weights learn to live on the grid.
 */
import { mulberry32, normalSampler } from '../../core/random';
import type { Dataset } from './datasets';
import { effectiveWeights, quantizeActivation, steGradient } from './fakeQuant';

export interface Layer {
  readonly inputs: number;
  readonly outputs: number;
  /** outputs × inputs, row-major. */
  readonly w: Float64Array;
  readonly b: Float64Array;
}

export interface Mlp {
  readonly layers: Layer[];
}

/** Bits for weights and activations; null = float. */
export type Quantization = {
  readonly bits: number;
  readonly activationBits?: number;
  readonly edgeBits?: number;
} | null;

export function createMlp(sizes: readonly number[], seed: number): Mlp {
  const normal = normalSampler(mulberry32(seed));
  const layers: Layer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l]!;
    const outputs = sizes[l + 1]!;
    const std = Math.sqrt(1 / inputs); // Xavier/LeCun for tanh
    layers.push({
      inputs,
      outputs,
      w: Float64Array.from({ length: inputs * outputs }, () => normal() * std),
      b: new Float64Array(outputs),
    });
  }
  return { layers };
}

export function cloneMlp(m: Mlp): Mlp {
  return { layers: m.layers.map((l) => ({ ...l, w: Float64Array.from(l.w), b: Float64Array.from(l.b) })) };
}

interface Trace {
  /** Per layer: its input (post-activation of the previous layer) and its pre-activation. */
  readonly inputs: Float64Array[];
  readonly pre: Float64Array[];
  readonly weights: Float64Array[];
  readonly probs: Float64Array;
}

function forwardOne(m: Mlp, x: number, y: number, q: Quantization, weights: Float64Array[]): Trace {
  let a = Float64Array.of(x, y);
  const inputs: Float64Array[] = [];
  const pre: Float64Array[] = [];
  m.layers.forEach((layer, l) => {
    inputs.push(a);
    const z = new Float64Array(layer.outputs);
    const w = weights[l]!;
    for (let o = 0; o < layer.outputs; o++) {
      let s = layer.b[o]!;
      for (let i = 0; i < layer.inputs; i++) s += w[o * layer.inputs + i]! * a[i]!;
      z[o] = s;
    }
    pre.push(z);
    if (l < m.layers.length - 1) {
      a = z.map((v) => {
        const t = Math.tanh(v);
        return q ? quantizeActivation(t, q.activationBits ?? q.bits) : t;
      });
    } else {
      a = z;
    }
  });
  // softmax over the two logits
  const mx = Math.max(...a);
  const e = a.map((v) => Math.exp(v - mx));
  const sum = e.reduce((s, v) => s + v, 0);
  return { inputs, pre, weights, probs: e.map((v) => v / sum) };
}

/** Class-1 probability for a point. */
export function predict(
  m: Mlp,
  x: number,
  y: number,
  q: Quantization = null,
  weights = effectiveWeights(m, q),
): number {
  return forwardOne(m, x, y, q, weights).probs[1]!;
}

export function accuracy(m: Mlp, d: Dataset, q: Quantization = null): number {
  const weights = effectiveWeights(m, q);
  let right = 0;
  for (let i = 0; i < d.count; i++) {
    const p = predict(m, d.points[2 * i]!, d.points[2 * i + 1]!, q, weights);
    if ((p >= 0.5 ? 1 : 0) === d.labels[i]) right++;
  }
  return right / d.count;
}

/** Mean cross-entropy and its gradients with respect to every weight and bias (through the STE when quantized). */
export function lossAndGradients(
  m: Mlp,
  d: Dataset,
  q: Quantization = null,
): { loss: number; gw: Float64Array[]; gb: Float64Array[] } {
  const weights = effectiveWeights(m, q);
  const gw = m.layers.map((l) => new Float64Array(l.w.length));
  const gb = m.layers.map((l) => new Float64Array(l.b.length));
  let loss = 0;
  for (let n = 0; n < d.count; n++) {
    const t = forwardOne(m, d.points[2 * n]!, d.points[2 * n + 1]!, q, weights);
    const label = d.labels[n]!;
    loss -= Math.log(Math.max(t.probs[label]!, 1e-12));
    // d loss / d logits = probs - onehot
    let delta = t.probs.map((p, k) => p - (k === label ? 1 : 0));
    for (let l = m.layers.length - 1; l >= 0; l--) {
      const layer = m.layers[l]!;
      const input = t.inputs[l]!;
      for (let o = 0; o < layer.outputs; o++) {
        gb[l]![o]! += delta[o]!;
        for (let i = 0; i < layer.inputs; i++) gw[l]![o * layer.inputs + i]! += delta[o]! * input[i]!;
      }
      if (l === 0) break;
      // back through this layer's (quantized) weights, the STE on the activation, and tanh
      const w = t.weights[l]!;
      const prev = t.pre[l - 1]!;
      const next = new Float64Array(layer.inputs);
      for (let i = 0; i < layer.inputs; i++) {
        let s = 0;
        for (let o = 0; o < layer.outputs; o++) s += w[o * layer.inputs + i]! * delta[o]!;
        const th = Math.tanh(prev[i]!);
        next[i] = s * (1 - th * th) * (q ? steGradient(th, -1, 1) : 1);
      }
      delta = next;
    }
  }
  const inv = 1 / d.count;
  for (const g of [...gw, ...gb]) for (let i = 0; i < g.length; i++) g[i]! *= inv;
  // the STE on the weights: no gradient to a weight its grid clips
  if (q) {
    m.layers.forEach((layer, l) => {
      const clip = (weights[l] as Float64Array & { clip?: number }).clip ?? Infinity;
      for (let i = 0; i < layer.w.length; i++) gw[l]![i]! *= steGradient(layer.w[i]!, -clip, clip);
    });
  }
  return { loss: loss * inv, gw, gb };
}
