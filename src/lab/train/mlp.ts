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
import { bitRange, fakeQuantize } from '../../core/quantize';
import { mulberry32, normalSampler } from '../../core/random';
import type { Dataset } from './datasets';

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

export interface Adam {
  readonly mw: Float64Array[];
  readonly vw: Float64Array[];
  readonly mb: Float64Array[];
  readonly vb: Float64Array[];
  t: number;
}

export function createAdam(m: Mlp): Adam {
  return {
    mw: m.layers.map((l) => new Float64Array(l.w.length)),
    vw: m.layers.map((l) => new Float64Array(l.w.length)),
    mb: m.layers.map((l) => new Float64Array(l.b.length)),
    vb: m.layers.map((l) => new Float64Array(l.b.length)),
    t: 0,
  };
}

/** One full-batch Adam step; returns the loss before it. */
export function trainStep(m: Mlp, opt: Adam, d: Dataset, q: Quantization, lr = 0.03): number {
  const { loss, gw, gb } = lossAndGradients(m, d, q);
  opt.t++;
  const b1 = 0.9;
  const b2 = 0.999;
  const c1 = 1 - b1 ** opt.t;
  const c2 = 1 - b2 ** opt.t;
  const update = (p: Float64Array, g: Float64Array, mm: Float64Array, vv: Float64Array) => {
    for (let i = 0; i < p.length; i++) {
      mm[i] = b1 * mm[i]! + (1 - b1) * g[i]!;
      vv[i] = b2 * vv[i]! + (1 - b2) * g[i]! * g[i]!;
      p[i]! -= (lr * (mm[i]! / c1)) / (Math.sqrt(vv[i]! / c2) + 1e-8);
    }
  };
  m.layers.forEach((l, k) => {
    update(l.w, gw[k]!, opt.mw[k]!, opt.vw[k]!);
    update(l.b, gb[k]!, opt.mb[k]!, opt.vb[k]!);
  });
  return loss;
}

export interface Experiment {
  readonly floatAccuracy: number;
  readonly ptqAccuracy: number;
  readonly qatAccuracy: number;
  readonly float: Mlp;
  readonly qat: Mlp;
}

export interface ExperimentOptions {
  readonly hidden: readonly number[];
  readonly floatSteps: number;
  readonly qatSteps: number;
  readonly qatLearningRate: number;
}

export const EXPERIMENT: ExperimentOptions = {
  hidden: [16, 16],
  floatSteps: 400,
  qatSteps: 400,
  qatLearningRate: 0.03,
};

/**
 * The lesson's experiment, as a generator that yields after every chunk of steps so that a page can
 * run it in slices: train float; PTQ = the float net evaluated at `bits`; QAT = the float net
 * fine-tuned with fake quantization at `bits`, then evaluated at `bits`.
 */
export function* experiment(
  train: Dataset,
  test: Dataset,
  bits: number,
  seed: number,
  opts: { chunk?: number; edgeBits?: number; options?: ExperimentOptions } = {},
): Generator<number, Experiment> {
  const { chunk = 20, edgeBits = 8, options: o = EXPERIMENT } = opts;
  const sizes = [2, ...o.hidden, 2];
  const float = createMlp(sizes, seed);
  const opt = createAdam(float);
  const total = o.floatSteps + o.qatSteps;
  for (let s = 0; s < o.floatSteps; s++) {
    trainStep(float, opt, train, null);
    if (s % chunk === chunk - 1) yield (s + 1) / total;
  }
  const qat = cloneMlp(float);
  const qopt = createAdam(qat);
  const q = { bits, edgeBits };
  for (let s = 0; s < o.qatSteps; s++) {
    trainStep(qat, qopt, train, q, o.qatLearningRate);
    if (s % chunk === chunk - 1) yield (o.floatSteps + s + 1) / total;
  }
  return {
    floatAccuracy: accuracy(float, test),
    ptqAccuracy: accuracy(float, test, q),
    qatAccuracy: accuracy(qat, test, q),
    float,
    qat,
  };
}

/** Run a generator to its end (Node, tests). */
export function runToEnd<T>(g: Generator<number, T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}
