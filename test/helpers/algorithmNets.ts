/**
 * The models built for the equalization, SmoothQuant and bias-correction tests
 * (test/integration/modelAlgorithms*.node.test.ts), their inputs, and a plain onnxruntime-node run.
 */
import * as ort from 'onnxruntime-node';
import { mulberry32, normalSampler } from '../../src/core/random';
import { encodeModel, makeNode, type ModelProto } from '../../src/onnx';
import { buildModel, floatTensor } from './models';

export type Feeds = Record<string, { data: Float32Array; dims: number[] }>;

/**
 * Sessions without graph optimizations: the ONNX semantics of the file. (With them, onnxruntime 1.30
 * rewrites an int4 per-channel DequantizeLinear → MatMul into its own kernel whose weights differ from
 * the file's: the MatMul's mean output error measured 0.8229 there against 0.8182 by the file's
 * DequantizeLinear, so a correction made from the file leaves 0.0055 of it.)
 */
export async function run(model: ModelProto | Uint8Array, feeds: Feeds): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(model instanceof Uint8Array ? model : encodeModel(model), {
    graphOptimizationLevel: 'disabled',
  });
  const out = await s.run(
    Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)])),
  );
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

export function randoms(n: number, seed: number, f: (g: number, i: number) => number = (g) => g): Float32Array {
  const g = normalSampler(mulberry32(seed));
  return Float32Array.from({ length: n }, (_, i) => f(g(), i));
}

/** Weights whose output channels' ranges differ by up to e^±1.5 (what equalization evens out). */
const uneven = (dims: number[], seed: number) => {
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  const gains = randoms(dims[0]!, seed + 1, (g) => Math.exp(1.5 * Math.tanh(g)));
  const w = randoms(dims[0]! * per, seed, (g, i) => 0.3 * g * gains[Math.floor(i / per)]!);
  return floatTensor(`W${seed}`, dims, (i) => w[i]!);
};

/**
 * X[1,8,12,12] → Conv 3x3 → Relu → Conv 3x3 (group 2) → PRelu → depthwise Conv → HardSwish → Conv 1x1 → Y,
 * and Z[4,10] → Gemm (transB) → LeakyRelu → Gemm → V.
 */
export function equalizeNet(): ModelProto {
  const t = (name: string, dims: number[], seed: number) => ({ ...uneven(dims, seed), name });
  return buildModel({
    opset: 14,
    inputs: [
      ['X', [1, 8, 12, 12]],
      ['Z', [4, 10]],
    ],
    outputs: [
      ['Y', [1, 8, 12, 12]],
      ['V', [4, 6]],
    ],
    inits: [
      t('W1', [16, 8, 3, 3], 11),
      floatTensor('B1', [16], (i) => 0.05 * i - 0.3),
      t('W2', [16, 8, 3, 3], 12),
      floatTensor('slope', [16, 1, 1], (i) => 0.01 * (i + 1)),
      t('W3', [16, 1, 3, 3], 13),
      floatTensor('B3', [16], (i) => 0.02 * i),
      t('W4', [8, 16, 1, 1], 14),
      t('G1', [12, 10], 15),
      floatTensor('C1', [12], (i) => 0.1 - 0.01 * i),
      t('G2', [12, 6], 16),
    ],
    nodes: [
      makeNode('Conv', ['X', 'W1', 'B1'], ['c1'], 'conv1', { pads: [1, 1, 1, 1] }),
      makeNode('Relu', ['c1'], ['r1'], 'relu1'),
      makeNode('Conv', ['r1', 'W2'], ['c2'], 'conv2', { pads: [1, 1, 1, 1], group: 2 }),
      makeNode('PRelu', ['c2', 'slope'], ['r2'], 'prelu2'),
      makeNode('Conv', ['r2', 'W3', 'B3'], ['c3'], 'conv3', { pads: [1, 1, 1, 1], group: 16 }),
      makeNode('HardSwish', ['c3'], ['r3'], 'hswish3'),
      makeNode('Conv', ['r3', 'W4'], ['Y'], 'conv4'),
      makeNode('Gemm', ['Z', 'G1', 'C1'], ['g1'], 'gemm1', { transB: 1 }),
      makeNode('LeakyRelu', ['g1'], ['l1'], 'leaky1', { alpha: 0.1 }),
      makeNode('Gemm', ['l1', 'G2'], ['V'], 'gemm2'),
    ],
  });
}

/** X[1,8,10,10] → Conv 3x3 (bias) → A; P[2,5,24] → MatMul [24,12] → M; Q[6,24] → Gemm (transB, no bias) → G. */
export function biasNet(): ModelProto {
  return buildModel({
    inputs: [
      ['X', [1, 8, 10, 10]],
      ['P', [2, 5, 24]],
      ['Q', [6, 24]],
    ],
    outputs: [
      ['A', [1, 16, 10, 10]],
      ['M', [2, 5, 12]],
      ['G', [6, 10]],
    ],
    inits: [
      { ...uneven([16, 8, 3, 3], 21), name: 'WC' },
      floatTensor('BC', [16], (i) => 0.01 * i),
      { ...uneven([24, 12], 22), name: 'WM' },
      { ...uneven([10, 24], 23), name: 'WG' },
    ],
    nodes: [
      makeNode('Conv', ['X', 'WC', 'BC'], ['A'], 'conv', { pads: [1, 1, 1, 1] }),
      makeNode('MatMul', ['P', 'WM'], ['M'], 'matmul'),
      makeNode('Gemm', ['Q', 'WG'], ['G'], 'gemm', { transB: 1 }),
    ],
  });
}

/** Inputs with a positive mean per channel (as after a ReLU), where a weight's rounding error shifts the mean output. */
export const biasFeeds = (seed: number): Feeds => ({
  X: { data: randoms(800, seed, (g, i) => Math.abs(g) + 0.2 * (Math.floor(i / 100) % 3)), dims: [1, 8, 10, 10] },
  P: { data: randoms(240, seed + 1, (g, i) => Math.abs(g) + (i % 24) / 24), dims: [2, 5, 24] },
  Q: { data: randoms(144, seed + 2, (g, i) => Math.abs(g) + (i % 3)), dims: [6, 24] },
});
