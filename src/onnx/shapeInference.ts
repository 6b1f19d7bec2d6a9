/**
 * Shapes of a graph's tensors for one sample, for the memory estimate (runtime/pageMemory.ts): the
 * inputs' dimensions as the sample gives them, initializers and Constant nodes as stored, value_info
 * where it is complete, and each node's outputs from its inputs by the operator's shape rule in the
 * ONNX spec (docs/Operators.md; onnx/defs/<domain>/defs.cc's TypeAndShapeInferenceFunction for the
 * same rules in C++). Only the common operators are covered; an output whose rule is not here, or
 * whose inputs are unknown, stays unknown, and every tensor computed from it too (the caller says so).
 * Nodes are visited in order: the spec requires a graph's nodes to be topologically sorted.
 */
import type { GraphProto, NodeProto, TensorProto } from './proto';
import { attrInt, attrInts, valueInfoElemType, valueInfoShape } from './proto';
import { readInts } from './tensor';

export interface InferredShape {
  readonly dims: readonly number[];
  /** TensorProto.DataType (1 float, 7 int64, 9 bool ...). */
  readonly elemType: number;
}

const FLOAT = 1;
const BOOL = 9;

/** Same shape and type as the first input. */
const UNARY = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'Gelu',
  'Erf',
  'Exp',
  'Log',
  'Sqrt',
  'Neg',
  'Abs',
  'Reciprocal',
  'Floor',
  'Ceil',
  'Round',
  'Sin',
  'Cos',
  'Elu',
  'Selu',
  'Softplus',
  'Softsign',
  'Mish',
  'Clip',
  'Identity',
  'Dropout',
  'Softmax',
  'LogSoftmax',
  'LayerNormalization',
  'BatchNormalization',
  'InstanceNormalization',
  'LpNormalization',
  'SimplifiedLayerNormalization',
  'Not',
]);

/** Numpy-style broadcasting of all inputs (ONNX docs/Broadcasting.md); comparisons give bool. */
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Mod', 'BitShift']);
const COMPARE = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor']);
const REDUCE = new Set([
  'ReduceMean',
  'ReduceSum',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceSumSquare',
  'ReduceLogSumExp',
]);

/** Numpy broadcasting; undefined when two dimensions differ and neither is 1. */
export function broadcastShapes(shapes: readonly (readonly number[])[]): number[] | undefined {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) return undefined;
      d = v;
    }
    out.push(d);
  }
  return out;
}

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** MatMul: numpy.matmul's shapes (1-D operands promoted and the added dimension removed). */
function matMulShape(a: readonly number[], b: readonly number[]): number[] | undefined {
  if (!a.length || !b.length) return undefined;
  const a2 = a.length === 1 ? [1, a[0]!] : [...a];
  const b2 = b.length === 1 ? [b[0]!, 1] : [...b];
  if (a2[a2.length - 1] !== b2[b2.length - 2]) return undefined;
  const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]);
  if (!batch) return undefined;
  return [...batch, ...(a.length === 1 ? [] : [a2[a2.length - 2]!]), ...(b.length === 1 ? [] : [b2[b2.length - 1]!])];
}

/** Shape's output: the dims from its `start` to its `end` (opset 15; negative counts from the end, clamped). */
export function shapeSlice(node: NodeProto, dims: readonly number[]): number[] {
  const rank = dims.length;
  const at = (v: number) => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
  return dims.slice(at(attrInt(node, 'start', 0)), at(attrInt(node, 'end', rank)));
}

/** Conv and pooling's spatial output size (Operators.md, Conv / MaxPool: pads, strides, dilations, auto_pad). */
function windowShape(node: NodeProto, x: readonly number[], kernel: readonly number[], channels: number): number[] {
  const n = kernel.length;
  const strides = attrInts(node, 'strides') ?? Array<number>(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? Array<number>(n).fill(1);
  const pads = attrInts(node, 'pads') ?? Array<number>(2 * n).fill(0);
  const autoPad = node.attribute.find((a) => a.name === 'auto_pad');
  const mode = autoPad ? new TextDecoder().decode(autoPad.s) : 'NOTSET';
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const spatial = x.slice(2).map((size, i) => {
    const s = strides[i]!;
    if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') return Math.ceil(size / s);
    const k = (kernel[i]! - 1) * dilations[i]! + 1;
    const padded = size + (mode === 'VALID' ? 0 : pads[i]! + pads[i + n]!) - k;
    return (ceil ? Math.ceil(padded / s) : Math.floor(padded / s)) + 1;
  });
  return [x[0]!, channels, ...spatial];
}

/**
 * Infer the shapes of `graph`'s tensors with its inputs bound to `inputDims` (a sample's shapes).
 * Returns every tensor whose shape is known (inputs, initializers, and inferred outputs).
 */
export function inferShapes(
  graph: GraphProto,
  inputDims: Readonly<Record<string, readonly number[]>>,
): Map<string, InferredShape> {
  const known = new Map<string, InferredShape>();
  const consts = new Map<string, TensorProto>();
  const bound = new Map<string, number>();
  for (const v of graph.input) {
    const dims = inputDims[v.name];
    const shape = valueInfoShape(v);
    shape?.forEach((d, i) => {
      if (typeof d === 'string' && dims?.[i] !== undefined) bound.set(d, dims[i]!);
    });
    if (dims) known.set(v.name, { dims: [...dims], elemType: valueInfoElemType(v) ?? FLOAT });
  }
  for (const t of graph.initializer) {
    known.set(t.name, { dims: t.dims.map(Number), elemType: t.dataType });
    consts.set(t.name, t);
  }
  // value_info and outputs where every dimension is known once the inputs' names are bound
  for (const v of [...graph.valueInfo, ...graph.output]) {
    if (known.has(v.name)) continue;
    const dims = valueInfoShape(v)?.map((d) => (typeof d === 'number' && d > 0 ? d : bound.get(String(d))));
    const elemType = valueInfoElemType(v);
    if (dims && elemType && dims.every((d) => d !== undefined)) known.set(v.name, { dims: dims as number[], elemType });
  }
  const ints = (name: string | undefined) => {
    const t = name ? consts.get(name) : undefined;
    return t && (t.dataType === 7 || t.dataType === 6) ? readInts(t) : undefined;
  };
  for (const node of graph.node) {
    if (node.domain && node.domain !== 'ai.onnx') continue;
    if (node.opType === 'Constant') {
      const t = node.attribute.find((a) => a.name === 'value')?.t;
      const out = node.output[0];
      if (t && out) {
        known.set(out, { dims: t.dims.map(Number), elemType: t.dataType });
        consts.set(out, t);
      }
      continue;
    }
    const ins = node.input.map((n) => (n ? known.get(n) : undefined));
    const out = inferNode(node, ins, ints);
    out.forEach((s, i) => {
      const name = node.output[i];
      if (s && name && !known.has(name)) known.set(name, s);
    });
  }
  return known;
}

function inferNode(
  node: NodeProto,
  ins: readonly (InferredShape | undefined)[],
  ints: (name: string | undefined) => number[] | undefined,
): (InferredShape | undefined)[] {
  const x = ins[0];
  const op = node.opType;
  const same = (dims: readonly number[] | undefined, elemType = x?.elemType ?? FLOAT) =>
    dims ? [{ dims, elemType }] : [];
  if (UNARY.has(op)) return x ? [x] : [];
  if (op === 'Cast') return same(x?.dims, attrInt(node, 'to', FLOAT));
  if (op === 'QuantizeLinear') return same(x?.dims, ins[2]?.elemType ?? 2);
  if (op === 'DequantizeLinear') return same(x?.dims, ins[1]?.elemType ?? FLOAT);
  const present = ins.filter((s): s is InferredShape => s !== undefined);
  if (BROADCAST.has(op) || COMPARE.has(op) || op === 'Where') {
    if (present.length !== node.input.filter(Boolean).length) return [];
    const elemType = COMPARE.has(op) ? BOOL : op === 'Where' ? (ins[1]?.elemType ?? FLOAT) : present[0]!.elemType;
    return same(broadcastShapes(present.map((s) => s.dims)), elemType);
  }
  if (!x) return [];
  const rank = x.dims.length;
  switch (op) {
    case 'MatMul':
      return ins[1] ? same(matMulShape(x.dims, ins[1].dims)) : [];
    case 'Gemm': {
      const b = ins[1];
      if (!b || rank !== 2) return [];
      const m = attrInt(node, 'transA', 0) ? x.dims[1]! : x.dims[0]!;
      const n = attrInt(node, 'transB', 0) ? b.dims[0]! : b.dims[1]!;
      return same([m, n]);
    }
    case 'Transpose': {
      const perm = attrInts(node, 'perm') ?? x.dims.map((_, i) => rank - 1 - i);
      return same(perm.map((p) => x.dims[p]!));
    }
    case 'Gather': {
      const idx = ins[1];
      if (!idx) return [];
      const axis = norm(attrInt(node, 'axis', 0), rank);
      return same([...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)]);
    }
    case 'Reshape': {
      const shape = ints(node.input[1]);
      if (!shape) return [];
      const allowZero = attrInt(node, 'allowzero', 0) === 1;
      const dims = shape.map((d, i) => (d === 0 && !allowZero ? x.dims[i]! : d));
      const total = x.dims.reduce((a, b) => a * b, 1);
      const rest = dims.reduce((a, b) => (b === -1 ? a : a * b), 1);
      return same(dims.map((d) => (d === -1 ? total / rest : d)));
    }
    case 'Flatten': {
      const axis = norm(attrInt(node, 'axis', 1), rank);
      const p = (a: readonly number[]) => a.reduce((s, d) => s * d, 1);
      return same([p(x.dims.slice(0, axis)), p(x.dims.slice(axis))]);
    }
    case 'Concat': {
      if (present.length !== node.input.length) return [];
      const axis = norm(attrInt(node, 'axis', 0), rank);
      const dims = [...x.dims];
      dims[axis] = present.reduce((a, s) => a + s.dims[axis]!, 0);
      return same(dims);
    }
    case 'Unsqueeze': {
      const axes = attrInts(node, 'axes') ?? ints(node.input[1]);
      if (!axes) return [];
      const outRank = rank + axes.length;
      const at = new Set(axes.map((a) => norm(a, outRank)));
      const rest = [...x.dims];
      return same(Array.from({ length: outRank }, (_, i) => (at.has(i) ? 1 : rest.shift()!)));
    }
    case 'Squeeze': {
      const axes = attrInts(node, 'axes') ?? ints(node.input[1]);
      const at = axes ? new Set(axes.map((a) => norm(a, rank))) : null;
      return same(x.dims.filter((d, i) => (at ? !at.has(i) : d !== 1)));
    }
    case 'Conv': {
      const w = ins[1];
      if (!w || rank < 3) return [];
      const kernel = attrInts(node, 'kernel_shape') ?? w.dims.slice(2);
      return same(windowShape(node, x.dims, kernel, w.dims[0]!));
    }
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      const kernel = attrInts(node, 'kernel_shape');
      return kernel && rank >= 3 ? [{ dims: windowShape(node, x.dims, kernel, x.dims[1]!), elemType: x.elemType }] : [];
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return same([x.dims[0]!, x.dims[1]!, ...x.dims.slice(2).map(() => 1)]);
    case 'Shape':
      return same([shapeSlice(node, x.dims).length], 7);
    default:
      break;
  }
  if (REDUCE.has(op)) {
    const axes = attrInts(node, 'axes') ?? ints(node.input[1]);
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const at = new Set((axes ?? x.dims.map((_, i) => i)).map((a) => norm(a, rank)));
    return same(keep ? x.dims.map((d, i) => (at.has(i) ? 1 : d)) : x.dims.filter((_, i) => !at.has(i)));
  }
  return [];
}
