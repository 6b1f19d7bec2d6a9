/**
 * ONNX → TFLite: the prepared ONNX graph rewritten into TFLite builtin ops, float32, float16 weights or
 * fully int8, following TFLite's int8 quantization specification
 * (https://www.tensorflow.org/lite/performance/quantization_spec). The spec's table, as applied here:
 *
 *   activations            int8, asymmetric, per tensor, zero point in [-128, 127]
 *   CONV_2D weights        int8, symmetric, per output channel (dim 0), zero point 0, range [-127, 127]
 *   DEPTHWISE_CONV_2D w.   int8, symmetric, per output channel (dim 3), zero point 0, range [-127, 127]
 *   TRANSPOSE_CONV w.      int8, symmetric, per output channel (dim 0), zero point 0
 *   FULLY_CONNECTED w.     int8, symmetric, per tensor (per channel, dim 0, as an option), zero point 0
 *   bias                   int32, scale = input_scale * weight_scale[c], zero point 0
 *   LOGISTIC output        scale 1/256, zero point -128
 *   SOFTMAX output         scale 1/256, zero point -128
 *   TANH output            scale 1/128, zero point 0
 *   MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE, TRANSPOSE, PAD, SLICE, STRIDED_SLICE, RESIZE_BILINEAR,
 *   RESIZE_NEAREST_NEIGHBOR, MAXIMUM, MINIMUM, CONCATENATION: output (scale, zero point) = input's
 *   (CONCATENATION: inputs whose parameters differ are requantized to the output's with QUANTIZE)
 * Everywhere else the output keeps the range the user set (the calibrated range of the static QDQ
 * export, through the same `quantParams`), so both files make the same choices. A weight scale is
 * enlarged where input_scale * weight_scale would overflow the int32 bias (onnxruntime's
 * _adjust_weight_scale_for_int32_bias, the same floor the QDQ export applies).
 *
 * Layout: every rank-4 tensor is NHWC in the file (inputs and outputs too: the file takes the pixels
 * as phones and microcontrollers hold them), everything else keeps ONNX's order. Weights are permuted
 * once, axes of Concat, Slice, Pad, Softmax and Transpose are remapped, and a TRANSPOSE is written
 * only where a rank changes across a Reshape/Flatten/Squeeze whose memory order differs between the
 * layouts (never around every op).
 */
import { activationConfigFor, type QuantConfig } from '../../../core/config';
import { quantParams } from '../../../core/conventions';
import { QuantscopeError } from '../../../core/errors';
import type { QParams } from '../../../core/qparams';
import { quantizeLinear } from '../../../core/quantize';
import {
  adjustWeightScaleForInt32Bias,
  quantizeBias,
  quantizeWeightPerChannel,
  quantizeWeightPerTensor,
  requantizeWeight,
  type QuantizedWeight,
} from '../../../core/weights';
import { indexGraph } from '../../graph';
import type { QuantPlan } from '../../plan';
import {
  attrFloat,
  attrInt,
  attrInts,
  bytesOf,
  dimsOf,
  valueInfoShape,
  type ModelProto,
  type NodeProto,
} from '../../proto';
import type { TensorRange } from '../../qdq';
import { readFloat32, readInts } from '../../tensor';
import { toHalf } from '../float16';
import { TfliteEmitter, type Quant, type TflType } from './emitter';
import { refusedNodes, resizeMapping } from './ops';
import { encodeTflite } from './flatbuffer';
import type { UnionValue } from './schema/generated';

export type TflitePrecision = 'int8' | 'float16' | 'float32';

export interface TfliteOptions {
  readonly precision: TflitePrecision;
  /** int8 files: integer inputs and outputs (microcontrollers) or float edges with QUANTIZE/DEQUANTIZE (default). */
  readonly io?: 'int8' | 'float';
  /** FULLY_CONNECTED weights per output channel instead of per tensor. */
  readonly fullyConnectedPerChannel?: boolean;
  /** Shapes (ONNX order) for inputs with dynamic dimensions. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
}

export interface TfliteCalibration {
  readonly plan: QuantPlan;
  readonly ranges: ReadonlyMap<string, TensorRange | null>;
  readonly config: QuantConfig;
}

export interface TfliteIo {
  readonly name: string;
  /** The file's shape (NHWC for rank 4). */
  readonly shape: readonly number[];
  readonly onnxShape: readonly number[];
  readonly type: 'int8' | 'float32';
  readonly scale?: number;
  readonly zeroPoint?: number;
}

export interface TfliteBuild {
  readonly emitter: TfliteEmitter;
  readonly graphInputs: readonly number[];
  readonly graphOutputs: readonly number[];
  readonly inputs: readonly TfliteIo[];
  readonly outputs: readonly TfliteIo[];
  /** Activations whose range the spec fixed or the writer derived (not calibrated). */
  readonly derivedRanges: readonly { tensor: string; how: string }[];
  readonly biasesAdjusted: number;
}

/** A value flowing through the graph: its TFLite tensor, its ONNX shape and (int8) its parameters. */
interface Val {
  readonly index: number;
  readonly shape: readonly number[];
  readonly q?: QParams;
  readonly range?: readonly [number, number];
}

const NHWC = [0, 2, 3, 1] as const; // TFLite dim i holds ONNX dim NHWC[i]
const NCHW_TO_NHWC_AXIS = [0, 3, 1, 2] as const; // ONNX axis a is TFLite axis NCHW_TO_NHWC_AXIS[a]

export const tflShape = (s: readonly number[]): number[] => (s.length === 4 ? NHWC.map((i) => s[i]!) : [...s]);
const tflAxis = (a: number, rank: number): number => {
  const ax = a < 0 ? a + rank : a;
  return rank === 4 ? NCHW_TO_NHWC_AXIS[ax]! : ax;
};
const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
/** NHWC and NCHW hold a rank-4 tensor in the same memory order when C = 1 or H·W = 1. */
const sameOrder = (s: readonly number[]): boolean => s.length !== 4 || s[1] === 1 || s[2]! * s[3]! === 1;

/** Permutes a row-major array of `shape` by `perm` (out dim i = in dim perm[i]). */
export function permute<T extends { length: number; [i: number]: number }>(
  data: T,
  shape: readonly number[],
  perm: readonly number[],
  make: (n: number) => T,
): T {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * shape[i + 1]!;
  const strides = perm.map((p) => inStrides[p]!);
  const out = make(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < data.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += idx[d]! * strides[d]!;
    out[o] = data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

const hardSwish = (x: number): number => (x * Math.min(Math.max(x + 3, 0), 6)) / 6;

function fail(node: NodeProto, why: string): never {
  throw new QuantscopeError('TFLITE_UNSUPPORTED', `node "${node.name}" (${node.opType}): ${why}`);
}

/** ONNX conv/pool padding as TFLite's SAME or VALID, or the explicit pads a PAD op must add first. */
function padding(
  inHW: readonly number[],
  outHW: readonly number[],
  k: readonly number[],
  s: readonly number[],
  d: readonly number[],
  pads: readonly number[],
): { padding: 'SAME' | 'VALID'; explicit?: number[] } {
  if (pads.every((p) => p === 0)) return { padding: 'VALID' };
  // tensorflow/lite/kernels/padding.h: SAME gives out = ceil(in / s), total pad
  // max((out - 1) * s + (k - 1) * d + 1 - in, 0), the smaller half before.
  let same = true;
  for (let i = 0; i < 2; i++) {
    const ke = (k[i]! - 1) * d[i]! + 1;
    const total = Math.max((outHW[i]! - 1) * s[i]! + ke - inHW[i]!, 0);
    if (
      outHW[i] !== Math.ceil(inHW[i]! / s[i]!) ||
      pads[i] !== Math.floor(total / 2) ||
      pads[i + 2] !== total - pads[i]!
    )
      same = false;
  }
  return same ? { padding: 'SAME' } : { padding: 'VALID', explicit: [...pads] };
}

export function buildTflite(model: ModelProto, opts: TfliteOptions, calib?: TfliteCalibration): TfliteBuild {
  const refused = refusedNodes(model);
  if (refused.length) {
    throw new QuantscopeError(
      'TFLITE_UNSUPPORTED',
      `TFLite has no builtin op for ${refused.length === 1 ? 'this node' : `these ${refused.length} nodes`}: ${refused
        .slice(0, 8)
        .map((r) => `node "${r.node}" (${r.opType}): ${r.reason}`)
        .join('; ')}${refused.length > 8 ? `; and ${refused.length - 8} more` : ''}`,
    );
  }
  const int8 = opts.precision === 'int8';
  if (int8 && !calib)
    throw new QuantscopeError('NO_STATISTICS', 'TFLite int8 needs calibrated ranges: calibrate first');
  const fp16 = opts.precision === 'float16';
  const graph = model.graph!;
  const index = indexGraph(graph);
  const e = new TfliteEmitter();
  const vals = new Map<string, Val>();
  const derivedRanges: { tensor: string; how: string }[] = [];
  let biasesAdjusted = 0;
  const actType: TflType = int8 ? 'INT8' : 'FLOAT32';

  // ---- ranges and parameters (int8) ----
  const producerOp = (t: string) => index.producer.get(t)?.opType;
  const paramsFor = (t: string, lo: number, hi: number): QParams => {
    const act = activationConfigFor(calib!.config, t, producerOp(t));
    return quantParams(lo, hi, 'int8', { ...act, symmetric: false });
  };
  const calibrated = (t: string): readonly [number, number] | undefined => {
    const r = calib?.ranges.get(t);
    if (r === null) {
      throw new QuantscopeError(
        'TFLITE_NO_RANGE',
        `tensor "${t}" saw NaN or Infinity in calibration: it has no int8 range`,
      );
    }
    return r ? [r.rmin, r.rmax] : undefined;
  };
  /** Output parameters: the calibrated range when there is one, else the derived one (named in the report). */
  const outParams = (t: string, derived: readonly [number, number] | undefined, how: string): Val['q'] & object => {
    const c = calibrated(t);
    const r = c ?? derived;
    if (!r) throw new QuantscopeError('TFLITE_NO_RANGE', `tensor "${t}" has no calibrated range: calibrate it first`);
    if (!c) derivedRanges.push({ tensor: t, how });
    return paramsFor(t, r[0], r[1]);
  };
  const rangeOfQ = (q: QParams): [number, number] => [(-128 - q.zeroPoint) * q.scale, (127 - q.zeroPoint) * q.scale];
  const quant = (q: QParams | undefined): Quant | undefined =>
    q ? { scale: [q.scale], zeroPoint: [q.zeroPoint] } : undefined;

  const newAct = (name: string, shape: readonly number[], q?: QParams): Val => ({
    index: e.tensor(name, tflShape(shape), actType, int8 ? quant(q) : undefined),
    shape,
    ...(q ? { q, range: rangeOfQ(q) } : {}),
  });
  const val = (node: NodeProto, t: string): Val => {
    const v = vals.get(t);
    if (!v) fail(node, `input "${t}" is not produced by a node the writer handled`);
    return v;
  };

  // ---- constants ----
  /** A float constant (ONNX shape already mapped to the file's layout); float16 files store it half with DEQUANTIZE. */
  const floatConst = (name: string, data: Float32Array, shape: readonly number[], from: string): number => {
    if (!fp16) return e.tensor(name, shape, 'FLOAT32', undefined, bytesOf(data));
    const half = e.tensor(`${name}_fp16`, shape, 'FLOAT16', undefined, toHalf(data).bytes);
    const f = e.tensor(name, shape, 'FLOAT32');
    e.op('DEQUANTIZE', [half], [f], from, undefined, { fp16: true });
    return f;
  };
  /** A constant operand of an elementwise op, broadcast-shaped for the other operand's layout. */
  const elementwiseConst = (name: string, t: string, otherRank: number, from: string): Val => {
    const init = index.initializers.get(t)!;
    let data = readFloat32(init);
    let shape = dimsOf(init);
    if (otherRank === 4 && shape.length > 0 && prod(shape) > 1) {
      shape = [...new Array<number>(4 - shape.length).fill(1), ...shape];
      data = permute(data, shape, NHWC, (n) => new Float32Array(n));
      shape = NHWC.map((i) => shape[i]!);
    }
    return constOperand(name, data, shape, from);
  };
  const constOperand = (name: string, data: Float32Array, shape: readonly number[], from: string): Val => {
    if (!int8) return { index: floatConst(name, data, shape, from), shape };
    // Constant inputs of activation ops: int8 per tensor with the activation settings, as the QDQ export does.
    const act = calib!.config.activations;
    const qc = quantizeWeightPerTensor(data, { dtype: 'int8', symmetric: act.symmetric });
    const q = { scale: qc.scales[0]!, zeroPoint: qc.zeroPoints[0]! };
    return {
      index: e.tensor(name, shape, 'INT8', quant(q), bytesOf(Int8Array.from(qc.data))),
      shape,
      q,
    };
  };
  const scalarConst = (name: string, v: number, from: string): Val => constOperand(name, Float32Array.of(v), [1], from);

  /** A weight, quantized (int8) per channel along `axis` or per tensor, then permuted to the file's layout. */
  const weight = (
    node: NodeProto,
    data: Float32Array,
    onnxShape: readonly number[],
    axis: number,
    perm: readonly number[] | null,
    perChannel: boolean,
    inputQ: QParams | undefined,
    bias: Float32Array | undefined,
    quantDim: number,
  ): { w: number; b: number } => {
    const outShape = perm ? perm.map((p) => onnxShape[p]!) : [...onnxShape];
    const wname = node.input[1]!;
    if (!int8) {
      const wdata = perm ? permute(data, onnxShape, perm, (n) => new Float32Array(n)) : data;
      const w = floatConst(wname, wdata, outShape, node.name);
      // A zero bias when the node has none: TFLite's CONV_2D kernels (before 2.13) require the input.
      const bdata = bias ?? new Float32Array(outShape[quantDim]!);
      const b = floatConst(node.input[2] || `${node.name}_bias`, bdata, [bdata.length], node.name);
      return { w, b };
    }
    const opts8 = { dtype: 'int8' as const, symmetric: true };
    let qw: QuantizedWeight = perChannel
      ? quantizeWeightPerChannel(data, onnxShape, axis, opts8)
      : quantizeWeightPerTensor(data, opts8);
    const inScale = inputQ!.scale;
    const biasData = bias ?? new Float32Array(qw.scales.length > 1 ? qw.scales.length : outShape[quantDim]!);
    const adjusted = adjustWeightScaleForInt32Bias(inScale, qw.scales, biasData);
    if (adjusted) {
      qw = requantizeWeight(data, onnxShape, qw, adjusted);
      biasesAdjusted++;
    }
    const q8 = Int8Array.from(qw.data);
    const wdata = perm ? permute(q8, onnxShape, perm, (n) => new Int8Array(n)) : q8;
    const scales = [...qw.scales];
    const w = e.tensor(
      wname,
      outShape,
      'INT8',
      { scale: scales, zeroPoint: scales.map(() => 0), ...(scales.length > 1 ? { dim: quantDim } : {}) },
      bytesOf(wdata),
    );
    const bq = quantizeBias(biasData, inScale, qw.scales);
    const channels = biasData.length;
    const bscales = bq.scales.length === 1 ? new Array<number>(1).fill(bq.scales[0]!) : [...bq.scales];
    const b = e.tensor(
      node.input[2] || `${node.name}_bias`,
      [channels],
      'INT32',
      { scale: bscales, zeroPoint: bscales.map(() => 0) },
      bytesOf(bq.data),
    );
    return { w, b };
  };

  // ---- fused activations: Relu / Clip(0, 6) / Clip(-1, 1) after a single-consumer producer ----
  const FUSABLE = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Add', 'Sub', 'Mul']);
  const clipBounds = (n: NodeProto): [number, number] => {
    const b = (i: number, d: number) => (n.input[i] ? readFloat32(index.initializers.get(n.input[i]!)!)[0]! : d);
    return n.opType === 'Relu' ? [0, Infinity] : [b(1, -Infinity), b(2, Infinity)];
  };
  const activationKind = (n: NodeProto): 'RELU' | 'RELU6' | 'RELU_N1_TO_1' | null => {
    if (n.opType !== 'Relu' && n.opType !== 'Clip') return null;
    const [lo, hi] = clipBounds(n);
    if (lo === 0 && hi === Infinity) return 'RELU';
    if (lo === 0 && hi === 6) return 'RELU6';
    if (lo === -1 && hi === 1) return 'RELU_N1_TO_1';
    return null;
  };
  const fused = new Map<string, { act: NodeProto; kind: 'RELU' | 'RELU6' | 'RELU_N1_TO_1' }>();
  const fusedAway = new Set<string>();
  for (const n of graph.node) {
    if (!FUSABLE.has(n.opType)) continue;
    const out = n.output[0]!;
    const cons = index.consumers.get(out) ?? [];
    if (cons.length !== 1 || index.graphOutputs.has(out)) continue;
    const kind = activationKind(cons[0]!);
    if (!kind) continue;
    fused.set(n.name, { act: cons[0]!, kind });
    fusedAway.add(cons[0]!.name);
  }
  const clampRange = (r: readonly [number, number], lo: number, hi: number): [number, number] => [
    Math.min(Math.max(r[0], lo), hi),
    Math.max(Math.min(r[1], hi), lo),
  ];
  /** The node's (possibly fused) output name and the activation applied. */
  const outputOf = (n: NodeProto): { name: string; fusedAct: string; bounds: [number, number] } => {
    const f = fused.get(n.name);
    if (!f) return { name: n.output[0]!, fusedAct: 'NONE', bounds: [-Infinity, Infinity] };
    return { name: f.act.output[0]!, fusedAct: f.kind, bounds: clipBounds(f.act) };
  };

  // ---- inputs ----
  const inputs: TfliteIo[] = [];
  const floatIo = !int8 || (opts.io ?? 'float') === 'float';
  const graphInputs: number[] = [];
  for (const v of graph.input) {
    if (index.initializers.has(v.name)) continue;
    const declared = valueInfoShape(v) ?? [];
    const given = opts.inputShapes?.[v.name];
    const shape = declared.map((d, i) => (typeof d === 'number' && d > 0 ? d : given?.[i]));
    if (
      shape.some((d) => d === undefined) ||
      (given &&
        given.some((d, i) => typeof declared[i] === 'number' && declared[i] !== d && (declared[i] as number) > 0))
    ) {
      throw new QuantscopeError(
        'TFLITE_DYNAMIC_SHAPE',
        `input "${v.name}" has dynamic dimensions [${declared.join(', ')}]: TFLite needs a fixed shape (give one, e.g. from the calibration data)`,
      );
    }
    const s = shape as number[];
    let q: QParams | undefined;
    if (int8) {
      const r = calibrated(v.name);
      if (!r) throw new QuantscopeError('TFLITE_NO_RANGE', `input "${v.name}" has no calibrated range`);
      q = paramsFor(v.name, r[0], r[1]);
    }
    if (int8 && floatIo) {
      const f = e.tensor(v.name, tflShape(s), 'FLOAT32');
      const val8 = newAct(`${v.name}_int8`, s, q);
      e.op('QUANTIZE', [f], [val8.index], v.name);
      graphInputs.push(f);
      vals.set(v.name, val8);
      inputs.push({ name: v.name, shape: tflShape(s), onnxShape: s, type: 'float32' });
    } else {
      const val0 = newAct(v.name, s, q);
      graphInputs.push(val0.index);
      vals.set(v.name, val0);
      inputs.push({
        name: v.name,
        shape: tflShape(s),
        onnxShape: s,
        type: int8 ? 'int8' : 'float32',
        ...(q ? { scale: q.scale, zeroPoint: q.zeroPoint } : {}),
      });
    }
  }

  /** Converts a value between layouts when its rank changes across a reshape (rank 4 NHWC ↔ ONNX order). */
  const toOnnxOrder = (node: NodeProto, v: Val): Val => {
    if (sameOrder(v.shape)) return v;
    const t = e.tensor(`${node.name}_nchw`, v.shape, actType, int8 ? quant(v.q) : undefined);
    e.op('TRANSPOSE', [v.index, e.int32Const(`${node.name}_perm_nchw`, [0, 3, 1, 2])], [t], node.name);
    return { ...v, index: t };
  };

  /**
   * Shape-only ops (Reshape, Flatten, Squeeze, Unsqueeze), output parameters the input's. RESHAPE keeps the
   * memory order, so a side whose file layout orders memory differently from ONNX goes through a TRANSPOSE.
   */
  const reshape = (node: NodeProto, x: Val, outShape: number[]): void => {
    const out = node.output[0]!;
    if (prod(outShape) !== prod(x.shape) || outShape.some((d) => !Number.isInteger(d) || d < 0))
      fail(node, `cannot reshape [${x.shape.join(', ')}] to [${outShape.join(', ')}]`);
    const src = toOnnxOrder(node, x);
    const options = (shape: number[]): UnionValue => ({ type: 'ReshapeOptions', value: { new_shape: shape } });
    if (sameOrder(outShape)) {
      const y = newAct(out, outShape, x.q);
      const target = tflShape(outShape);
      e.op('RESHAPE', [src.index, e.int32Const(`${out}_shape`, target)], [y.index], node.name, options(target));
      vals.set(out, y);
      return;
    }
    const mid = e.tensor(`${out}_nchw`, outShape, actType, int8 ? quant(x.q) : undefined);
    e.op('RESHAPE', [src.index, e.int32Const(`${out}_shape`, outShape)], [mid], node.name, options(outShape));
    const y = newAct(out, outShape, x.q);
    e.op('TRANSPOSE', [mid, e.int32Const(`${out}_perm`, [...NHWC])], [y.index], node.name);
    vals.set(out, y);
  };

  const requantized = (node: NodeProto, v: Val, q: QParams | undefined): number => {
    if (!int8 || !q || (v.q && v.q.scale === q.scale && v.q.zeroPoint === q.zeroPoint)) return v.index;
    const t = e.tensor(`${e.tensors[v.index]!.name}_requantized`, tflShape(v.shape), 'INT8', quant(q));
    e.op('QUANTIZE', [v.index], [t], node.name);
    return t;
  };

  const elementwise = (node: NodeProto, op: 'ADD' | 'SUB' | 'MUL'): void => {
    const [a, b] = [node.input[0]!, node.input[1]!];
    const aConst = index.initializers.has(a);
    const bConst = index.initializers.has(b);
    if (aConst && bConst) fail(node, 'both inputs are constants (prepare the model to fold them)');
    const act = aConst ? val(node, b) : val(node, a);
    const other = aConst ? a : b;
    const otherVal = aConst || bConst ? elementwiseConst(other, other, act.shape.length, node.name) : val(node, other);
    const [x, y] = aConst ? [otherVal, act] : [act, otherVal];
    const shape = broadcastShape(node, x, y, aConst || bConst);
    const o = outputOf(node);
    let q: QParams | undefined;
    if (int8) {
      const ra = x.range ?? [0, 0];
      const rb = y.range ?? [0, 0];
      const r: [number, number] =
        op === 'ADD'
          ? [ra[0] + rb[0], ra[1] + rb[1]]
          : op === 'SUB'
            ? [ra[0] - rb[1], ra[1] - rb[0]]
            : minMax([ra[0] * rb[0], ra[0] * rb[1], ra[1] * rb[0], ra[1] * rb[1]]);
      q = outParams(o.name, clampRange(r, ...o.bounds), `${op} of its inputs' ranges`);
    }
    const out = newAct(o.name, shape, q);
    const options: UnionValue =
      op === 'ADD'
        ? { type: 'AddOptions', value: { fused_activation_function: ACT[o.fusedAct] } }
        : op === 'SUB'
          ? { type: 'SubOptions', value: { fused_activation_function: ACT[o.fusedAct] } }
          : { type: 'MulOptions', value: { fused_activation_function: ACT[o.fusedAct] } };
    e.op(op, [x.index, y.index], [out.index], node.name, options);
    vals.set(o.name, out);
  };

  const broadcastShape = (node: NodeProto, x: Val, y: Val, hasConst: boolean): number[] => {
    // Constants were reshaped to the activation's layout already; shapes here are ONNX-order for activations.
    if (hasConst) return [...(x.shape.length >= y.shape.length ? x.shape : y.shape)];
    const rank = Math.max(x.shape.length, y.shape.length);
    const pad = (s: readonly number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
    const [xs, ys] = [pad(x.shape), pad(y.shape)];
    if (x.shape.length !== y.shape.length && rank === 4)
      fail(node, 'broadcast between a rank-4 and a lower-rank activation');
    return xs.map((d, i) => {
      if (d !== ys[i] && d !== 1 && ys[i] !== 1) fail(node, `shapes [${x.shape}] and [${y.shape}] do not broadcast`);
      return Math.max(d, ys[i]!);
    });
  };

  // ---- the nodes ----
  for (const node of graph.node) {
    if (fusedAway.has(node.name)) continue;
    const x0 = node.input[0];
    switch (node.opType) {
      case 'Identity': {
        vals.set(node.output[0]!, val(node, x0!));
        break;
      }
      case 'Conv': {
        const x = val(node, x0!);
        const w = index.initializers.get(node.input[1]!)!;
        const ws = dimsOf(w);
        const group = attrInt(node, 'group', 1);
        const k = ws.slice(2);
        const s = attrInts(node, 'strides') ?? [1, 1];
        const d = attrInts(node, 'dilations') ?? [1, 1];
        const autoPad = node.attribute.find((a) => a.name === 'auto_pad');
        let pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
        const inHW = x.shape.slice(2);
        if (autoPad && new TextDecoder().decode(autoPad.s).startsWith('SAME')) {
          pads = samePads(inHW, k, s, d, new TextDecoder().decode(autoPad.s) === 'SAME_LOWER');
        }
        const outHW = inHW.map(
          (n, i) => Math.floor((n + pads[i]! + pads[i + 2]! - ((k[i]! - 1) * d[i]! + 1)) / s[i]!) + 1,
        );
        const outShape = [x.shape[0]!, ws[0]!, outHW[0]!, outHW[1]!];
        const p = padding(inHW, outHW, k, s, d, pads);
        const xin = p.explicit
          ? padValue(node, x, [0, 0, p.explicit[0]!, p.explicit[1]!, 0, 0, p.explicit[2]!, p.explicit[3]!])
          : x;
        const depthwise = group !== 1;
        const bias = node.input[2] ? readFloat32(index.initializers.get(node.input[2])!) : undefined;
        const { w: wi, b: bi } = weight(
          node,
          readFloat32(w),
          ws,
          0,
          depthwise ? [1, 2, 3, 0] : [0, 2, 3, 1],
          true,
          xin.q,
          bias,
          depthwise ? 3 : 0,
        );
        const o = outputOf(node);
        const q = int8 ? outParams(o.name, undefined, '') : undefined;
        const out = newAct(o.name, outShape, q);
        const common = {
          padding: PADDING[p.padding],
          stride_w: s[1]!,
          stride_h: s[0]!,
          fused_activation_function: ACT[o.fusedAct],
          dilation_w_factor: d[1]!,
          dilation_h_factor: d[0]!,
        };
        if (depthwise) {
          e.op('DEPTHWISE_CONV_2D', [xin.index, wi, bi], [out.index], node.name, {
            type: 'DepthwiseConv2DOptions',
            value: { ...common, depth_multiplier: ws[0]! / group },
          });
        } else e.op('CONV_2D', [xin.index, wi, bi], [out.index], node.name, { type: 'Conv2DOptions', value: common });
        vals.set(o.name, out);
        break;
      }
      case 'ConvTranspose': {
        const x = val(node, x0!);
        const w = index.initializers.get(node.input[1]!)!;
        const ws = dimsOf(w); // [C_in, C_out, kH, kW]
        const k = ws.slice(2);
        const s = attrInts(node, 'strides') ?? [1, 1];
        const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
        const outPad = attrInts(node, 'output_padding') ?? [0, 0];
        const inHW = x.shape.slice(2);
        const explicitOut = attrInts(node, 'output_shape');
        const outHW = explicitOut ?? inHW.map((n, i) => (n - 1) * s[i]! + k[i]! - pads[i]! - pads[i + 2]! + outPad[i]!);
        // TFLite's TRANSPOSE_CONV crops pad_before = floor(total/2) of the full (in-1)*s+k output (SAME) or
        // none (VALID), from the output_shape given: accept the ONNX pads that match one of them.
        const full = inHW.map((n, i) => (n - 1) * s[i]! + k[i]!);
        let mode: 'SAME' | 'VALID' | null = null;
        if (pads.every((pv) => pv === 0) && outHW.every((n, i) => n <= full[i]!)) mode = 'VALID';
        const sameOk = outHW.every((n, i) => {
          const total = Math.max(full[i]! - n, 0);
          return pads[i] === Math.floor(total / 2) && n === inHW[i]! * s[i]!;
        });
        if (!mode && sameOk) mode = 'SAME';
        if (!mode) fail(node, `pads [${pads}] match neither TFLite's SAME nor VALID cropping`);
        const outShape = [x.shape[0]!, ws[1]!, outHW[0]!, outHW[1]!];
        const bias = node.input[2] ? readFloat32(index.initializers.get(node.input[2])!) : new Float32Array(ws[1]!);
        const { w: wi, b: bi } = weight(node, readFloat32(w), ws, 1, [1, 2, 3, 0], true, x.q, bias, 0);
        const o = outputOf(node);
        const q = int8 ? outParams(o.name, undefined, '') : undefined;
        const out = newAct(o.name, outShape, q);
        const shapeT = e.int32Const(`${o.name}_output_shape`, tflShape(outShape));
        e.op(
          'TRANSPOSE_CONV',
          [shapeT, wi, x.index, bi],
          [out.index],
          node.name,
          {
            type: 'TransposeConvOptions',
            value: {
              padding: PADDING[mode!],
              stride_w: s[1]!,
              stride_h: s[0]!,
              fused_activation_function: ACT[o.fusedAct],
            },
          },
          { bias: true },
        );
        vals.set(o.name, out);
        break;
      }
      case 'Gemm':
      case 'MatMul': {
        const x = val(node, x0!);
        const w = index.initializers.get(node.input[1]!)!;
        let ws = dimsOf(w);
        let data = readFloat32(w);
        const transB = node.opType === 'Gemm' ? attrInt(node, 'transB', 0) : 0;
        if (!transB) {
          data = permute(data, ws, [1, 0], (n) => new Float32Array(n));
          ws = [ws[1]!, ws[0]!];
        }
        const alpha = node.opType === 'Gemm' ? attrFloat(node, 'alpha', 1) : 1;
        const beta = node.opType === 'Gemm' ? attrFloat(node, 'beta', 1) : 1;
        if (alpha !== 1) data = data.map((v) => v * alpha);
        let bias: Float32Array | undefined;
        if (node.opType === 'Gemm' && node.input[2]) {
          const c = readFloat32(index.initializers.get(node.input[2])!);
          if (c.length !== ws[0]! && c.length !== 1) fail(node, `C of ${c.length} values is not a per-output bias`);
          bias = c.length === 1 ? new Float32Array(ws[0]!).fill(c[0]! * beta) : c.map((v) => v * beta);
        }
        const perChannel = opts.fullyConnectedPerChannel === true;
        const xin = x.shape.length === 2 ? x : toOnnxOrder(node, x);
        const { w: wi, b: bi } = weight(node, data, ws, 0, null, perChannel, x.q, bias, 0);
        const outShape = [...x.shape.slice(0, -1), ws[0]!];
        const o = outputOf(node);
        const q = int8 ? outParams(o.name, undefined, '') : undefined;
        const out = newAct(o.name, outShape, q);
        e.op('FULLY_CONNECTED', [xin.index, wi, bi], [out.index], node.name, {
          type: 'FullyConnectedOptions',
          value: { fused_activation_function: ACT[o.fusedAct], keep_num_dims: x.shape.length > 2 },
        });
        vals.set(o.name, out);
        break;
      }
      case 'Add':
        elementwise(node, 'ADD');
        break;
      case 'Sub':
        elementwise(node, 'SUB');
        break;
      case 'Mul':
        elementwise(node, 'MUL');
        break;
      case 'Div': {
        // x / c as x * (1 / c): TFLite Micro's DIV has no int8 kernel.
        const x = val(node, x0!);
        const c = readFloat32(index.initializers.get(node.input[1]!)!);
        const init = index.initializers.get(node.input[1]!)!;
        const recip = c.map((v) => 1 / v);
        let shape = dimsOf(init);
        let data = recip;
        if (x.shape.length === 4 && shape.length > 0 && prod(shape) > 1) {
          shape = [...new Array<number>(4 - shape.length).fill(1), ...shape];
          data = permute(data, shape, NHWC, (n) => new Float32Array(n));
          shape = NHWC.map((i) => shape[i]!);
        }
        const cv = constOperand(`${node.input[1]}_reciprocal`, data, shape.length ? shape : [1], node.name);
        let q: QParams | undefined;
        if (int8) {
          const r = x.range!;
          const m = minMax([...recip].flatMap((v) => [r[0] * v, r[1] * v]));
          q = outParams(node.output[0]!, m, 'Div by a constant of its input range');
        }
        const out = newAct(node.output[0]!, x.shape, q);
        e.op('MUL', [x.index, cv.index], [out.index], node.name, { type: 'MulOptions', value: {} });
        vals.set(node.output[0]!, out);
        break;
      }
      case 'Relu':
      case 'Clip': {
        const x = val(node, x0!);
        const [lo, hi] = clipBounds(node);
        // RELU_N1_TO_1 has no TFLite Micro kernel (micro.ts): standalone, Clip(-1, 1) takes MAXIMUM/MINIMUM.
        const kind = activationKind(node);
        const out = newAct(node.output[0]!, x.shape, x.q);
        if (kind && kind !== 'RELU_N1_TO_1') {
          e.op(kind, [x.index], [out.index], node.name);
        } else {
          // General Clip: MAXIMUM then MINIMUM with constants (parameters stay the input's, per the spec).
          let cur = x.index;
          if (lo !== -Infinity) {
            const t =
              hi !== Infinity
                ? e.tensor(`${node.output[0]}_max`, tflShape(x.shape), actType, int8 ? quant(x.q) : undefined)
                : out.index;
            e.op('MAXIMUM', [cur, constLike(`${node.name}_min`, lo, x)], [t], node.name);
            cur = t;
          }
          if (hi !== Infinity) e.op('MINIMUM', [cur, constLike(`${node.name}_max`, hi, x)], [out.index], node.name);
        }
        vals.set(node.output[0]!, out);
        break;
      }
      case 'Sigmoid':
      case 'Tanh': {
        const x = val(node, x0!);
        // Spec-fixed output parameters: LOGISTIC (1/256, -128), TANH (1/128, 0).
        const q = int8
          ? node.opType === 'Sigmoid'
            ? { scale: 1 / 256, zeroPoint: -128 }
            : { scale: 1 / 128, zeroPoint: 0 }
          : undefined;
        if (int8)
          derivedRanges.push({
            tensor: node.output[0]!,
            how: `fixed by the TFLite int8 spec (${node.opType === 'Sigmoid' ? 'LOGISTIC' : 'TANH'})`,
          });
        const out = newAct(node.output[0]!, x.shape, q);
        e.op(node.opType === 'Sigmoid' ? 'LOGISTIC' : 'TANH', [x.index], [out.index], node.name);
        vals.set(node.output[0]!, out);
        break;
      }
      case 'Softmax': {
        const x = val(node, x0!);
        const axis = attrInt(node, 'axis', -1);
        if (tflAxis(axis, x.shape.length) !== x.shape.length - 1)
          fail(node, `softmax over axis ${axis} is not the file's last axis`);
        const q = int8 ? { scale: 1 / 256, zeroPoint: -128 } : undefined;
        if (int8) derivedRanges.push({ tensor: node.output[0]!, how: 'fixed by the TFLite int8 spec (SOFTMAX)' });
        const out = newAct(node.output[0]!, x.shape, q);
        e.op('SOFTMAX', [x.index], [out.index], node.name, { type: 'SoftmaxOptions', value: { beta: 1 } });
        vals.set(node.output[0]!, out);
        break;
      }
      case 'HardSwish': {
        const x = val(node, x0!);
        let q: QParams | undefined;
        if (int8) {
          const [a, b] = x.range!;
          const cands = [hardSwish(a), hardSwish(b), ...(a < -1.5 && b > -1.5 ? [hardSwish(-1.5)] : [])];
          q = outParams(node.output[0]!, minMax(cands), 'hard-swish of its input range');
        }
        const out = newAct(node.output[0]!, x.shape, q);
        e.op('HARD_SWISH', [x.index], [out.index], node.name);
        vals.set(node.output[0]!, out);
        break;
      }
      case 'HardSigmoid': {
        // max(0, min(1, αx + β)) = RELU6(6αx + 6β) / 6: MUL, ADD with a fused RELU6, MUL — all in TFLite Micro.
        const x = val(node, x0!);
        const alpha = attrFloat(node, 'alpha', 0.2);
        const beta = attrFloat(node, 'beta', 0.5);
        const y = node.output[0]!;
        const r = x.range ?? [0, 0];
        const r1 = minMax([r[0] * 6 * alpha, r[1] * 6 * alpha]);
        const r2 = clampRange([r1[0] + 6 * beta, r1[1] + 6 * beta], 0, 6);
        const q1 = int8 ? paramsFor(`${y}_scaled`, r1[0], r1[1]) : undefined;
        const q2 = int8 ? paramsFor(`${y}_relu6`, r2[0], r2[1]) : undefined;
        const t1 = newAct(`${y}_scaled`, x.shape, q1);
        e.op('MUL', [x.index, scalarConst(`${node.name}_6alpha`, 6 * alpha, node.name).index], [t1.index], node.name, {
          type: 'MulOptions',
          value: {},
        });
        const t2 = newAct(`${y}_relu6`, x.shape, q2);
        e.op('ADD', [t1.index, scalarConst(`${node.name}_6beta`, 6 * beta, node.name).index], [t2.index], node.name, {
          type: 'AddOptions',
          value: { fused_activation_function: ACT.RELU6 },
        });
        const q = int8 ? outParams(y, [r2[0] / 6, r2[1] / 6], 'hard-sigmoid of its input range') : undefined;
        const out = newAct(y, x.shape, q);
        e.op('MUL', [t2.index, scalarConst(`${node.name}_sixth`, 1 / 6, node.name).index], [out.index], node.name, {
          type: 'MulOptions',
          value: {},
        });
        vals.set(y, out);
        break;
      }
      case 'BatchNormalization': {
        // y = x * s + t per channel, s = γ / sqrt(var + ε), t = β - mean * s (onnx/docs/Operators.md).
        const x = val(node, x0!);
        const [g, bta, mean, vr] = node.input.slice(1).map((t) => readFloat32(index.initializers.get(t)!));
        const eps = attrFloat(node, 'epsilon', 1e-5);
        const sc = g!.map((gv, c) => gv / Math.sqrt(vr![c]! + eps));
        const sh = bta!.map((bv, c) => bv - mean![c]! * sc[c]!);
        const cshape = x.shape.length === 4 ? [sc.length] : [sc.length];
        const y = node.output[0]!;
        const r = x.range ?? [0, 0];
        const r1 = minMax([...sc].flatMap((v) => [r[0] * v, r[1] * v]));
        const q1 = int8 ? paramsFor(`${y}_scaled`, r1[0], r1[1]) : undefined;
        const t1 = newAct(`${y}_scaled`, x.shape, q1);
        e.op('MUL', [x.index, constOperand(`${node.name}_scale`, sc, cshape, node.name).index], [t1.index], node.name, {
          type: 'MulOptions',
          value: {},
        });
        const o = outputOf(node);
        const r2 = minMax([...sh].flatMap((v) => [r1[0] + v, r1[1] + v]));
        const q = int8 ? outParams(o.name, r2, 'BatchNormalization of its input range') : undefined;
        const out = newAct(o.name, x.shape, q);
        e.op(
          'ADD',
          [t1.index, constOperand(`${node.name}_shift`, sh, cshape, node.name).index],
          [out.index],
          node.name,
          {
            type: 'AddOptions',
            value: { fused_activation_function: ACT[o.fusedAct] },
          },
        );
        vals.set(o.name, out);
        break;
      }
      case 'Concat': {
        const xs = node.input.map((t) => val(node, t));
        const rank = xs[0]!.shape.length;
        const axis = attrInt(node, 'axis', 0);
        const ax = axis < 0 ? axis + rank : axis;
        const shape = [...xs[0]!.shape];
        shape[ax] = xs.reduce((a, v) => a + v.shape[ax]!, 0);
        let q: QParams | undefined;
        if (int8)
          q = outParams(node.output[0]!, minMax(xs.flatMap((v) => [...(v.range ?? [0, 0])])), 'union of its inputs');
        const ins = xs.map((v) => requantized(node, v, q));
        const out = newAct(node.output[0]!, shape, q);
        e.op('CONCATENATION', ins, [out.index], node.name, {
          type: 'ConcatenationOptions',
          value: { axis: tflAxis(ax, rank) },
        });
        vals.set(node.output[0]!, out);
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const x = val(node, x0!);
        const k = attrInts(node, 'kernel_shape')!;
        const s = attrInts(node, 'strides') ?? [1, 1];
        const d = attrInts(node, 'dilations') ?? [1, 1];
        if (d.some((v) => v !== 1)) fail(node, 'dilated pooling');
        const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
        const inHW = x.shape.slice(2);
        const outHW = inHW.map((n, i) => Math.floor((n + pads[i]! + pads[i + 2]! - k[i]!) / s[i]!) + 1);
        let p = padding(inHW, outHW, k, s, d, pads);
        let xin = x;
        if (p.explicit) {
          // A PAD before a pool changes the result unless the pad cells count (average with count_include_pad).
          if (node.opType === 'MaxPool' || attrInt(node, 'count_include_pad', 0) !== 1)
            fail(node, `pads [${pads}] match neither TFLite's SAME nor VALID`);
          xin = padValue(node, x, [0, 0, p.explicit[0]!, p.explicit[1]!, 0, 0, p.explicit[2]!, p.explicit[3]!]);
          p = { padding: 'VALID' };
        }
        const outShape = [x.shape[0]!, x.shape[1]!, outHW[0]!, outHW[1]!];
        const out = newAct(node.output[0]!, outShape, xin.q);
        e.op(node.opType === 'MaxPool' ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D', [xin.index], [out.index], node.name, {
          type: 'Pool2DOptions',
          value: {
            padding: PADDING[p.padding],
            stride_w: s[1]!,
            stride_h: s[0]!,
            filter_width: k[1]!,
            filter_height: k[0]!,
          },
        });
        vals.set(node.output[0]!, out);
        break;
      }
      case 'GlobalAveragePool': {
        const x = val(node, x0!);
        const outShape = [x.shape[0]!, x.shape[1]!, 1, 1];
        const q = int8 ? outParams(node.output[0]!, x.range, 'its input range (a mean stays inside it)') : undefined;
        const out = newAct(node.output[0]!, outShape, q);
        e.op('MEAN', [x.index, e.int32Const(`${node.name}_axes`, [1, 2])], [out.index], node.name, {
          type: 'ReducerOptions',
          value: { keep_dims: true },
        });
        vals.set(node.output[0]!, out);
        break;
      }
      case 'Reshape': {
        const x = val(node, x0!);
        const target = readInts(index.initializers.get(node.input[1]!)!);
        const allowZero = attrInt(node, 'allowzero', 0) === 1;
        const shape = target.map((d, i) => (d === 0 && !allowZero ? x.shape[i]! : d));
        const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        reshape(
          node,
          x,
          shape.map((d) => (d === -1 ? prod(x.shape) / known : d)),
        );
        break;
      }
      case 'Flatten': {
        const x = val(node, x0!);
        const axis = attrInt(node, 'axis', 1);
        const a = axis < 0 ? axis + x.shape.length : axis;
        reshape(node, x, [prod(x.shape.slice(0, a)), prod(x.shape.slice(a))]);
        break;
      }
      case 'Squeeze':
      case 'Unsqueeze': {
        const x = val(node, x0!);
        const axes = node.input[1] ? readInts(index.initializers.get(node.input[1])!) : (attrInts(node, 'axes') ?? []);
        let shape: number[];
        if (node.opType === 'Squeeze') {
          const norm = axes.map((a) => (a < 0 ? a + x.shape.length : a));
          shape = x.shape.filter((d, i) => (norm.length ? !norm.includes(i) : d !== 1));
        } else {
          const rank = x.shape.length + axes.length;
          const norm = axes.map((a) => (a < 0 ? a + rank : a));
          shape = [];
          let j = 0;
          for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[j++]!);
        }
        reshape(node, x, shape);
        break;
      }
      case 'Transpose': {
        const x = val(node, x0!);
        const rank = x.shape.length;
        const perm = attrInts(node, 'perm') ?? [...Array(rank).keys()].reverse();
        const outShape = perm.map((p) => x.shape[p]!);
        // File perm: y_file[i] = x_file[inv(Pin)[perm[Pout[i]]]], P the layout's dims (identity below rank 4).
        const pl = (r: number) => (r === 4 ? [...NHWC] : [...Array(r).keys()]);
        const pin = pl(rank);
        const inv = pin.map((_, i) => pin.indexOf(i));
        const q = pl(rank).map((_, i) => inv[perm[pl(rank)[i]!]!]!);
        if (q.every((v, i) => v === i)) {
          vals.set(node.output[0]!, { ...x, shape: outShape });
          break;
        }
        const out = newAct(node.output[0]!, outShape, x.q);
        e.op('TRANSPOSE', [x.index, e.int32Const(`${node.name}_perm`, q)], [out.index], node.name);
        vals.set(node.output[0]!, out);
        break;
      }
      case 'Pad': {
        const x = val(node, x0!);
        const pads = readInts(index.initializers.get(node.input[1]!)!);
        const y = padValue(node, x, pads);
        vals.set(node.output[0]!, y);
        e.tensors[y.index] = { ...e.tensors[y.index]!, name: e.uniqueName(node.output[0]!) };
        break;
      }
      case 'Resize': {
        const x = val(node, x0!);
        const m = resizeMapping(node) as Exclude<ReturnType<typeof resizeMapping>, string>;
        const scalesT = node.input[2] ? index.initializers.get(node.input[2]) : undefined;
        const sizesT = node.input[3] ? index.initializers.get(node.input[3]) : undefined;
        let outShape: number[];
        if (sizesT && dimsOf(sizesT)[0]) outShape = readInts(sizesT);
        else if (scalesT && dimsOf(scalesT)[0]) {
          const sc = readFloat32(scalesT);
          outShape = x.shape.map((d, i) => Math.floor(d * sc[i]!));
        } else fail(node, 'Resize with neither scales nor sizes');
        if (outShape[0] !== x.shape[0] || outShape[1] !== x.shape[1]) fail(node, 'Resize of the batch or channel axis');
        const out = newAct(node.output[0]!, outShape, x.q);
        e.op(
          m.op,
          [x.index, e.int32Const(`${node.name}_size`, [outShape[2]!, outShape[3]!])],
          [out.index],
          node.name,
          {
            type: m.op === 'RESIZE_BILINEAR' ? 'ResizeBilinearOptions' : 'ResizeNearestNeighborOptions',
            value: { align_corners: m.alignCorners, half_pixel_centers: m.halfPixel },
          },
          { halfPixel: m.halfPixel },
        );
        vals.set(node.output[0]!, out);
        break;
      }
      case 'Slice': {
        const x = val(node, x0!);
        const rank = x.shape.length;
        const starts = readInts(index.initializers.get(node.input[1]!)!);
        const ends = readInts(index.initializers.get(node.input[2]!)!);
        const axes = node.input[3] ? readInts(index.initializers.get(node.input[3])!) : starts.map((_, i) => i);
        const steps = node.input[4] ? readInts(index.initializers.get(node.input[4])!) : starts.map(() => 1);
        if (steps.some((st) => st < 1)) fail(node, 'Slice with negative steps');
        const begin = new Array<number>(rank).fill(0);
        const end = [...x.shape];
        const stride = new Array<number>(rank).fill(1);
        axes.forEach((a0, i) => {
          const a = a0 < 0 ? a0 + rank : a0;
          const n = x.shape[a]!;
          const clampI = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
          begin[a] = clampI(starts[i]!);
          end[a] = Math.max(clampI(ends[i]!), begin[a]!);
          stride[a] = steps[i]!;
        });
        const outShape = x.shape.map((_, a) => Math.ceil((end[a]! - begin[a]!) / stride[a]!));
        // STRIDED_SLICE, not SLICE: TFLite Micro registers only the former (micro.ts).
        const out = newAct(node.output[0]!, outShape, x.q);
        const fileOrder = (v: number[]) => (rank === 4 ? NHWC.map((i) => v[i]!) : v);
        e.op(
          'STRIDED_SLICE',
          [
            x.index,
            e.int32Const(`${node.name}_begin`, fileOrder(begin)),
            e.int32Const(`${node.name}_end`, fileOrder(end)),
            e.int32Const(`${node.name}_strides`, fileOrder(stride)),
          ],
          [out.index],
          node.name,
          { type: 'StridedSliceOptions', value: {} },
        );
        vals.set(node.output[0]!, out);
        break;
      }
      default:
        fail(node, 'no TFLite mapping');
    }
  }

  /** A constant of one value, broadcast against `like` (MAXIMUM/MINIMUM), with `like`'s parameters in int8. */
  function constLike(name: string, v: number, like: Val): number {
    if (!int8) return floatConst(name, Float32Array.of(v), [1], name);
    const q = like.q!;
    return e.tensor(
      name,
      [1],
      'INT8',
      quant(q),
      bytesOf(Int8Array.from(quantizeLinear(Float32Array.of(v), q.scale, q.zeroPoint, 'int8'))),
    );
  }

  /** PAD (zeros: the input's zero point in int8, which is real 0) with ONNX pads [b0.., e0..]. */
  function padValue(node: NodeProto, x: Val, pads: readonly number[]): Val {
    const rank = x.shape.length;
    const before = pads.slice(0, rank);
    const after = pads.slice(rank);
    if ([...before, ...after].some((p) => p < 0)) fail(node, 'negative pads (cropping)');
    const pairs = Array.from({ length: rank }, (_, i) => [before[i]!, after[i]!]);
    const filePairs = rank === 4 ? NHWC.map((i) => pairs[i]!) : pairs;
    const outShape = x.shape.map((d, i) => d + before[i]! + after[i]!);
    const out = newAct(`${node.name}_padded`, outShape, x.q);
    e.op('PAD', [x.index, e.int32Const(`${node.name}_paddings`, filePairs.flat(), [rank, 2])], [out.index], node.name);
    return out;
  }

  // ---- outputs ----
  const outputs: TfliteIo[] = [];
  const graphOutputs: number[] = [];
  for (const o of graph.output) {
    const v = vals.get(o.name);
    if (!v)
      throw new QuantscopeError(
        'TFLITE_UNSUPPORTED',
        `output "${o.name}" is not produced by a node the writer handled`,
      );
    if (int8 && floatIo) {
      const f = e.tensor(o.name, tflShape(v.shape), 'FLOAT32');
      e.tensors[v.index] = { ...e.tensors[v.index]!, name: e.uniqueName(`${o.name}_int8`) };
      e.op('DEQUANTIZE', [v.index], [f], o.name);
      graphOutputs.push(f);
      outputs.push({ name: o.name, shape: tflShape(v.shape), onnxShape: v.shape, type: 'float32' });
    } else {
      graphOutputs.push(v.index);
      outputs.push({
        name: o.name,
        shape: tflShape(v.shape),
        onnxShape: v.shape,
        type: int8 ? 'int8' : 'float32',
        ...(v.q ? { scale: v.q.scale, zeroPoint: v.q.zeroPoint } : {}),
      });
    }
  }
  cancelTransposes(e, graphOutputs);
  return { emitter: e, inputs, outputs, graphInputs, graphOutputs, derivedRanges, biasesAdjusted };
}

/**
 * Transposes cancelled: a TRANSPOSE whose only reader is a TRANSPOSE undoing it (a rank-4 tensor taken to
 * ONNX order and straight back, e.g. Unsqueeze then Squeeze) is dropped with it, its readers rewired.
 */
function cancelTransposes(e: TfliteEmitter, graphOutputs: number[]): void {
  const permOf = (i: number): number[] => {
    const b = e.buffers[e.tensors[i]!.buffer]!;
    return [...new Int32Array(b.buffer, b.byteOffset, b.length / 4)];
  };
  for (;;) {
    const readers = new Map<number, number[]>();
    e.ops.forEach((o, k) => o.inputs.forEach((i) => readers.set(i, [...(readers.get(i) ?? []), k])));
    const pair = e.ops.findIndex((a) => {
      if (a.op !== 'TRANSPOSE' || graphOutputs.includes(a.outputs[0]!)) return false;
      const r = readers.get(a.outputs[0]!) ?? [];
      if (r.length !== 1 || e.ops[r[0]!]!.op !== 'TRANSPOSE') return false;
      const pa = permOf(a.inputs[1]!);
      const pb = permOf(e.ops[r[0]!]!.inputs[1]!);
      return pb.every((p, i) => pa[p] === i);
    });
    if (pair < 0) return;
    const a = e.ops[pair]!;
    const bIndex = readers.get(a.outputs[0]!)![0]!;
    const b = e.ops[bIndex]!;
    const from = b.outputs[0]!;
    const to = a.inputs[0]!;
    e.ops.splice(Math.max(pair, bIndex), 1);
    e.ops.splice(Math.min(pair, bIndex), 1);
    for (let k = 0; k < e.ops.length; k++) {
      const o = e.ops[k]!;
      if (o.inputs.includes(from)) e.ops[k] = { ...o, inputs: o.inputs.map((i) => (i === from ? to : i)) };
    }
    const gi = graphOutputs.indexOf(from);
    if (gi >= 0) graphOutputs[gi] = to;
  }
}

/** ONNX auto_pad SAME_UPPER / SAME_LOWER as explicit pads. */
function samePads(inHW: number[], k: number[], s: number[], d: number[], lower: boolean): number[] {
  const pads = [0, 0, 0, 0];
  for (let i = 0; i < 2; i++) {
    const out = Math.ceil(inHW[i]! / s[i]!);
    const total = Math.max((out - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1 - inHW[i]!, 0);
    const small = Math.floor(total / 2);
    pads[i] = lower ? total - small : small;
    pads[i + 2] = total - pads[i]!;
  }
  return pads;
}

function minMax(v: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

const ACT: Record<string, number> = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3 };
const PADDING = { SAME: 0, VALID: 1 } as const;

/** The file's bytes from a build. */
export function writeTflite(build: TfliteBuild, description: string): Uint8Array {
  return encodeTflite(build.emitter.model(build.graphInputs, build.graphOutputs, description));
}
