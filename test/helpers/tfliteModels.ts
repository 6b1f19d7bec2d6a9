/**
 * Models for the TFLite writer's tests: a small CNN classifier (its head trained here on a synthetic
 * 4-class image set), a model that uses every other op the writer maps, and one with an op it refuses.
 */
import { mulberry32 } from '../../src/core/random';
import { bytesOf, makeNode, makeTensor, type ModelProto } from '../../src/onnx/proto';
import { buildModel, floatTensor } from './models';

const i64 = (name: string, v: number[]) => makeTensor(name, 7, [v.length], bytesOf(BigInt64Array.from(v.map(BigInt))));
const f32 = (name: string, dims: number[], v: number[]) => makeTensor(name, 1, dims, bytesOf(Float32Array.from(v)));

export const CLASSES = 4;
export const SIDE = 16;

/** One 1x16x16 image of class c: horizontal stripes, vertical stripes, a diagonal, or a centred blob, plus noise. */
export function patternImage(c: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const phase = Math.floor(rand() * 4);
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      let v: number;
      if (c === 0) v = (y + phase) % 4 < 2 ? 1 : 0;
      else if (c === 1) v = (x + phase) % 4 < 2 ? 1 : 0;
      else if (c === 2) v = Math.abs(x - y + phase - 2) < 2 ? 1 : 0;
      else v = (x - 7.5) ** 2 + (y - 7.5) ** 2 < 16 + phase * 4 ? 1 : 0;
      out[y * SIDE + x] = v + (rand() - 0.5) * 0.4;
    }
  }
  return out;
}

/** The classifier's layers: Conv(1→8)+Relu, MaxPool 2, depthwise Conv+Clip(0,6), Conv 1x1(8→16)+HardSwish, GAP, Flatten. */
function features(seed: number) {
  const rand = mulberry32(seed);
  const r = (scale: number) => () => (rand() * 2 - 1) * scale;
  return {
    inits: [
      floatTensor('c1_w', [8, 1, 3, 3], r(0.6)),
      floatTensor('c1_b', [8], r(0.1)),
      floatTensor('dw_w', [8, 1, 3, 3], r(0.5)),
      floatTensor('dw_b', [8], r(0.1)),
      floatTensor('pw_w', [16, 8, 1, 1], r(0.5)),
      floatTensor('pw_b', [16], r(0.1)),
    ],
    nodes: [
      makeNode('Conv', ['x', 'c1_w', 'c1_b'], ['c1'], 'conv1', { pads: [1, 1, 1, 1] }),
      makeNode('Relu', ['c1'], ['r1'], 'relu1'),
      makeNode('MaxPool', ['r1'], ['p1'], 'pool1', { kernel_shape: [2, 2], strides: [2, 2] }),
      makeNode('Conv', ['p1', 'dw_w', 'dw_b'], ['dw'], 'dwconv', { pads: [1, 1, 1, 1], group: 8 }),
      makeNode('Clip', ['dw', 'clip_lo', 'clip_hi'], ['d6'], 'relu6'),
      makeNode('Conv', ['d6', 'pw_w', 'pw_b'], ['pw'], 'pwconv'),
      makeNode('HardSwish', ['pw'], ['hs'], 'hswish'),
      makeNode('GlobalAveragePool', ['hs'], ['gap'], 'gap'),
      makeNode('Flatten', ['gap'], ['feat'], 'flatten'),
    ],
    consts: [f32('clip_lo', [], [0]), f32('clip_hi', [], [6])],
  };
}

/** The feature extractor alone (its output: 16 features an image), to train the head on. */
export function classifierFeatures(seed = 7): ModelProto {
  const f = features(seed);
  return buildModel({
    opset: 14, // HardSwish
    inputs: [['x', [1, 1, SIDE, SIDE]]],
    outputs: [['feat', [1, 16]]],
    inits: [...f.inits, ...f.consts],
    nodes: f.nodes,
  });
}

/** The classifier with a trained head: features → Gemm(16→4) → Softmax. */
export function classifier(head: { w: Float32Array; b: Float32Array }, seed = 7): ModelProto {
  const f = features(seed);
  return buildModel({
    opset: 14, // HardSwish
    inputs: [['x', [1, 1, SIDE, SIDE]]],
    outputs: [['probs', [1, CLASSES]]],
    inits: [...f.inits, ...f.consts, f32('fc_w', [CLASSES, 16], [...head.w]), f32('fc_b', [CLASSES], [...head.b])],
    nodes: [
      ...f.nodes,
      makeNode('Gemm', ['feat', 'fc_w', 'fc_b'], ['logits'], 'fc', { transB: 1 }),
      makeNode('Softmax', ['logits'], ['probs'], 'softmax', { axis: 1 }),
    ],
  });
}

/** Softmax regression on fixed features (full-batch gradient descent): the head's weights [4, 16] and bias. */
export function trainHead(
  feats: readonly Float32Array[],
  labels: readonly number[],
  epochs = 300,
  lr = 0.5,
): { w: Float32Array; b: Float32Array; accuracy: number } {
  const d = feats[0]!.length;
  const w = new Float32Array(CLASSES * d);
  const b = new Float32Array(CLASSES);
  // features standardised into the weights afterwards would change the model: train on them as they are
  const logits = (x: Float32Array) =>
    Array.from({ length: CLASSES }, (_, c) => b[c]! + x.reduce((a, v, i) => a + v * w[c * d + i]!, 0));
  for (let ep = 0; ep < epochs; ep++) {
    const gw = new Float32Array(w.length);
    const gb = new Float32Array(CLASSES);
    feats.forEach((x, n) => {
      const z = logits(x);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, v) => a + v, 0);
      for (let c = 0; c < CLASSES; c++) {
        const g = e[c]! / s - (labels[n] === c ? 1 : 0);
        gb[c]! += g;
        for (let i = 0; i < d; i++) gw[c * d + i]! += g * x[i]!;
      }
    });
    for (let i = 0; i < w.length; i++) w[i]! -= (lr * gw[i]!) / feats.length;
    for (let c = 0; c < CLASSES; c++) b[c]! -= (lr * gb[c]!) / feats.length;
  }
  let right = 0;
  feats.forEach((x, n) => {
    const z = logits(x);
    if (z.indexOf(Math.max(...z)) === labels[n]) right++;
  });
  return { w, b, accuracy: right / feats.length };
}

/**
 * Every other op the writer maps, on a [1, 4, 8, 8] input: BatchNormalization, Sub/Div by constants,
 * HardSigmoid, ConvTranspose, bilinear Resize (half_pixel), Concat, AveragePool, Pad, Slice,
 * Transpose (cancelled and kept), Reshape/Squeeze/Unsqueeze, Sigmoid, Tanh, a general Clip.
 */
export function opsZoo(): ModelProto {
  const rand = mulberry32(3);
  const r = (s: number) => () => (rand() * 2 - 1) * s;
  return buildModel({
    inputs: [['x', [1, 4, 8, 8]]],
    outputs: [
      ['sig', [1, 8, 16, 16]],
      ['flat', [1, 64]],
    ],
    inits: [
      floatTensor('bn_g', [4], () => 1.2),
      floatTensor('bn_b', [4], r(0.2)),
      floatTensor('bn_m', [4], r(0.1)),
      floatTensor('bn_v', [4], () => 0.8),
      floatTensor('sub_c', [4, 1, 1], r(0.3)),
      f32('div_c', [], [2]),
      floatTensor('ct_w', [4, 4, 2, 2], r(0.5)),
      floatTensor('ct_b', [4], r(0.1)),
      f32('rs_roi', [0], []),
      f32('rs_scales', [4], [1, 1, 2, 2]),
      i64('pads', [0, 0, 2, 2, 0, 0, 2, 2]),
      i64('sl_starts', [1, 1]),
      i64('sl_ends', [9, 9]),
      i64('sl_axes', [2, 3]),
      i64('rshape', [1, 4, 16]),
      i64('unsq_axes', [3]),
      i64('sq_axes', [3]),
      i64('flat_shape', [1, 64]),
      f32('clip_lo', [], [-0.5]),
      f32('clip_hi', [], [0.75]),
    ],
    nodes: [
      makeNode('BatchNormalization', ['x', 'bn_g', 'bn_b', 'bn_m', 'bn_v'], ['bn'], 'bn'),
      makeNode('Sub', ['bn', 'sub_c'], ['sub'], 'sub'),
      makeNode('Div', ['sub', 'div_c'], ['div'], 'div'),
      makeNode('HardSigmoid', ['div'], ['hsig'], 'hsig', { alpha: 0.2, beta: 0.5 }),
      makeNode('ConvTranspose', ['div', 'ct_w', 'ct_b'], ['up'], 'convT', { kernel_shape: [2, 2], strides: [2, 2] }),
      makeNode('Resize', ['hsig', 'rs_roi', 'rs_scales'], ['rs'], 'resize', {
        mode: 'linear',
        coordinate_transformation_mode: 'half_pixel',
      }),
      makeNode('Concat', ['up', 'rs'], ['cat'], 'concat', { axis: 1 }),
      makeNode('Sigmoid', ['cat'], ['sig'], 'sigmoid'),
      makeNode('Pad', ['div', 'pads'], ['padded'], 'pad'),
      makeNode('AveragePool', ['padded'], ['avg'], 'avgpool', { kernel_shape: [3, 3], strides: [1, 1] }),
      makeNode('Slice', ['avg', 'sl_starts', 'sl_ends', 'sl_axes'], ['sl'], 'slice'),
      makeNode('Tanh', ['sl'], ['th'], 'tanh'),
      makeNode('Clip', ['th', 'clip_lo', 'clip_hi'], ['cl'], 'clip'),
      makeNode('Transpose', ['cl'], ['tr'], 'transpose', { perm: [0, 1, 3, 2] }),
      makeNode('MaxPool', ['tr'], ['mp'], 'maxpool', { kernel_shape: [2, 2], strides: [2, 2] }),
      makeNode('Reshape', ['mp', 'rshape'], ['rsh'], 'reshape'),
      makeNode('Unsqueeze', ['rsh', 'unsq_axes'], ['unsq'], 'unsqueeze'),
      makeNode('Squeeze', ['unsq', 'sq_axes'], ['sq'], 'squeeze'),
      makeNode('Reshape', ['sq', 'flat_shape'], ['flat'], 'flatten'),
    ],
  });
}

/** A Conv followed by Erf (GELU's core): TFLite has no builtin for Erf in this writer. */
export function withUnsupportedOp(): ModelProto {
  return buildModel({
    inputs: [['x', [1, 2, 4, 4]]],
    outputs: [['y', [1, 2, 4, 4]]],
    inits: [floatTensor('w', [2, 2, 1, 1], (i) => i - 1)],
    nodes: [makeNode('Conv', ['x', 'w'], ['c'], 'conv'), makeNode('Erf', ['c'], ['y'], 'the_erf')],
  });
}
