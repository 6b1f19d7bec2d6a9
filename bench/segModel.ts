/**
 * A background-removal-sized model built here (bench/segTune.ts): a U-Net-shaped conv encoder-decoder like
 * IS-Net / RMBG-1.4, with photo-like samples for it.
 */
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import {
  bytesOf,
  makeNode,
  makeOpset,
  makeTensor,
  makeValueInfo,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../src/onnx';
import type { AttrValue } from '../src/onnx/proto';
import { hashUniform } from '../test/helpers/bigModels';

export interface SegShape {
  /** Input side (square image). */
  image: number;
  /** Channels per encoder level, finest first; each level halves the resolution (MaxPool 2x2). */
  widths: number[];
  /** Per-channel scale spread (natural-log half-range) left by folded BatchNorms; 0: none. */
  spread?: number;
}

/** A tensor name with the per-channel scales its producers folded in. */
interface Scaled {
  name: string;
  scales: Float32Array;
}

/**
 * 1024x1024 input, 7 levels down to 16x16. Weights sit in the coarse levels, as in IS-Net, so the
 * full-resolution convolutions stay narrow: 43.9 M parameters = 175.4 MB of float32, 2.2 GB of node
 * outputs a sample, 127 G multiply-adds a sample.
 */
export const SEG_176MB: SegShape = {
  image: 1024,
  widths: [20, 40, 80, 160, 320, 640, 1120],
  spread: Number(process.env.BENCH_SEG_SPREAD ?? 2),
};
export const SEG_TINY: SegShape = { image: 64, widths: [4, 8, 16] };

export interface SegModel {
  model: ModelProto;
  /** Parameter count (float32 values in initializers). */
  params: number;
  /** Sum of the element counts of every node output for one sample (what every-tensor calibration holds). */
  activationElements: number;
}

/**
 * The U-Net: per encoder level two [Conv 3x3 (BatchNorm folded into weights and bias) → Relu], MaxPool 2x2
 * between levels; per decoder level Resize x2 (linear, as IS-Net's bilinear upsampling), Concat with the
 * encoder's skip, two [Conv 3x3 → Relu]; then Conv 1x1 → 1 channel → Sigmoid.
 * Weights are He-uniform (He et al. 2015: Var(w) = 2 / fan_in keeps the second moment through ReLU), so the
 * activations stay finite and varied at every depth; biases ±0.05 so ReLUs don't all switch together.
 */
export function segModel(s: SegShape, seed = 7): SegModel {
  const inits: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  let params = 0;
  let activationElements = 0;
  let k = 0;
  const store = (name: string, dims: number[], data: Float32Array) => {
    inits.push(makeTensor(name, 1, dims, bytesOf(data)));
    params += data.length;
    return name;
  };
  /** Per output channel, the scale a folded BatchNorm leaves: exp(u · spread), u uniform in [-1, 1). */
  const channelScales = (count: number) => {
    const sd = seed * 1000 + k++;
    return Float32Array.from({ length: count }, (_, i) => Math.exp(hashUniform(sd, i) * (s.spread ?? 0)));
  };
  const n = (op: string, ins: string[], out: string, elements: number, attrs: Record<string, AttrValue> = {}) => {
    nodes.push(makeNode(op, ins, [out], `${op}_${out}`, attrs));
    activationElements += elements;
    return out;
  };
  /**
   * Conv 3x3 → Relu. Output channel o is scaled by sOut[o] (as a folded BatchNorm's γ/σ would) and input
   * channel i's weights divided by the producer's sIn[i]: Relu, MaxPool, Resize and Concat commute with positive
   * per-channel scales, so the function stays He-normalized while each tensor's channels span e^±spread, the
   * per-channel range spread that makes per-tensor activation ranges hard on BN-folded nets (Nagel et al. 2019,
   * "Data-Free Quantization Through Weight Equalization and Bias Correction", §3.1, Fig. 2).
   */
  const convRelu = (x: Scaled, cout: number, side: number, name: string): Scaled => {
    const cin = x.scales.length;
    const fanIn = cin * 9;
    const he = Math.sqrt(6 / fanIn);
    const sOut = channelScales(cout);
    const sd = seed * 1000 + k++;
    const w = new Float32Array(cout * cin * 9);
    for (let i = 0; i < w.length; i++) {
      const o = Math.floor(i / (cin * 9));
      const ci = Math.floor(i / 9) % cin;
      w[i] = (hashUniform(sd, i) * he * sOut[o]!) / x.scales[ci]!;
    }
    const sdB = seed * 1000 + k++;
    const b = Float32Array.from({ length: cout }, (_, o) => hashUniform(sdB, o) * 0.05 * sOut[o]!);
    const c = n(
      'Conv',
      [x.name, store(`${name}_w`, [cout, cin, 3, 3], w), store(`${name}_b`, [cout], b)],
      name,
      cout * side * side,
      {
        kernel_shape: [3, 3],
        pads: [1, 1, 1, 1],
      },
    );
    return { name: n('Relu', [c], `${name}_relu`, cout * side * side), scales: sOut };
  };
  inits.push(makeTensor('scale_x2', 1, [4], bytesOf(Float32Array.of(1, 1, 2, 2))));
  let x: Scaled = { name: 'image', scales: new Float32Array(3).fill(1) };
  const skips: [Scaled, number][] = [];
  s.widths.forEach((c, level) => {
    const side = s.image >> level;
    if (level > 0) {
      const pooled = n('MaxPool', [x.name], `pool${level}`, x.scales.length * side * side, {
        kernel_shape: [2, 2],
        strides: [2, 2],
      });
      x = { name: pooled, scales: x.scales };
    }
    x = convRelu(x, c, side, `enc${level}a`);
    x = convRelu(x, c, side, `enc${level}b`);
    skips.push([x, side]);
  });
  for (let level = s.widths.length - 2; level >= 0; level--) {
    const [skip, side] = skips[level]!;
    const cin = x.scales.length;
    const c = skip.scales.length;
    const up = n('Resize', [x.name, '', 'scale_x2'], `up${level}`, cin * side * side, { mode: 'linear' });
    const cat = n('Concat', [up, skip.name], `cat${level}`, (cin + c) * side * side, { axis: 1 });
    const scales = new Float32Array(cin + c);
    scales.set(x.scales);
    scales.set(skip.scales, cin);
    x = convRelu({ name: cat, scales }, c, side, `dec${level}a`);
    x = convRelu(x, c, side, `dec${level}b`);
  }
  const cin = x.scales.length;
  const sdH = seed * 1000 + k++;
  const head = Float32Array.from({ length: cin }, (_, i) => (hashUniform(sdH, i) * Math.sqrt(6 / cin)) / x.scales[i]!);
  const logits = n(
    'Conv',
    [x.name, store('head_w', [1, cin, 1, 1], head), store('head_b', [1], Float32Array.of(0.05))],
    'logits',
    s.image ** 2,
  );
  n('Sigmoid', [logits], 'mask', s.image ** 2);
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'quantscope-bench',
    opsetImport: [makeOpset('', 18)],
    graph: create(GraphProtoSchema, {
      name: 'seg_unet',
      node: nodes,
      initializer: inits,
      input: [makeValueInfo('image', 1, [1, 3, s.image, s.image])],
      output: [makeValueInfo('mask', 1, [1, 1, s.image, s.image])],
    }),
  });
  return { model, params, activationElements };
}

/**
 * A photo-like sample, ImageNet-normalized [1, 3, H, W]: a vertical colour gradient background, a few
 * soft-edged ellipses ("objects") of other colours, and mild texture, different per index.
 */
export function segSample(side: number, index: number): Float32Array {
  const out = new Float32Array(3 * side * side);
  const r = (j: number) => (hashUniform(9000 + index, j) + 1) / 2;
  const bg0 = [r(0), r(1), r(2)];
  const bg1 = [r(3), r(4), r(5)];
  const blobs = Array.from({ length: 3 }, (_, b) => ({
    cx: side * (0.2 + 0.6 * r(10 + b * 8)),
    cy: side * (0.2 + 0.6 * r(11 + b * 8)),
    rx: side * (0.08 + 0.2 * r(12 + b * 8)),
    ry: side * (0.08 + 0.25 * r(13 + b * 8)),
    rgb: [r(14 + b * 8), r(15 + b * 8), r(16 + b * 8)],
  }));
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  for (let y = 0; y < side; y++) {
    for (let xx = 0; xx < side; xx++) {
      const t = y / side;
      const px = [0, 1, 2].map((c) => bg0[c]! * (1 - t) + bg1[c]! * t);
      for (const b of blobs) {
        const d = ((xx - b.cx) / b.rx) ** 2 + ((y - b.cy) / b.ry) ** 2;
        const a = 1 / (1 + Math.exp((d - 1) * 12)); // soft edge
        for (let c = 0; c < 3; c++) px[c] = px[c]! * (1 - a) + b.rgb[c]! * a;
      }
      const tex = 0.03 * Math.sin(xx * 0.21 + index) * Math.cos(y * 0.17);
      for (let c = 0; c < 3; c++) out[c * side * side + y * side + xx] = (px[c]! + tex - mean[c]!) / std[c]!;
    }
  }
  return out;
}
