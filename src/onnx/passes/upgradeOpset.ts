/**
 * Pass: raise the default-domain opset to `target` (13 for per-axis QuantizeLinear), converting the
 * ops whose definitions changed on the way (onnx/docs/Changelog.md), and raise ir_version to match
 * (opset 13 needs IR 7: onnx/docs/Versioning.md). Ops not known to be unchanged are refused by name.
 */
import { QuantscopeError } from '../../core/errors';
import { uniqueNamer } from '../graph';
import {
  attrFloat,
  attrInt,
  attrInts,
  bytesOf,
  cloneSharingInitializers,
  defaultOpset,
  getAttr,
  makeNode,
  makeOpset,
  makeTensor,
  type GraphProto,
  type ModelProto,
  type NodeProto,
} from '../proto';
import { DT } from '../tensor';

/** Ops whose semantics did not change between opset 9 and 13 (only types or negative axes were added). */
const UNCHANGED = new Set(
  `Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization BitShift Cast Ceil Celu
   Concat Constant ConstantOfShape Conv ConvInteger ConvTranspose Cos Cosh CumSum DepthToSpace DequantizeLinear Det Div
   Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor GRU Gather GatherElements GatherND Gemm GlobalAveragePool
   GlobalLpPool GlobalMaxPool Greater GreaterOrEqual HardSigmoid Identity If InstanceNormalization IsInf IsNaN LRN LSTM
   LeakyRelu Less LessOrEqual Log Loop LpNormalization LpPool MatMul MatMulInteger Max MaxPool MaxRoiPool MaxUnpool Mean
   MeanVarianceNormalization Min Mod Mul Multinomial Neg NonMaxSuppression NonZero Not OneHot Or PRelu Pow QLinearConv
   QLinearMatMul QuantizeLinear RNN RandomNormal RandomNormalLike RandomUniform RandomUniformLike Range Reciprocal
   ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSumSquare Relu Reshape
   ReverseSequence RoiAlign Round ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size Softplus
   Softsign SpaceToDepth Sqrt Sub Sum Tan Tanh ThresholdedRelu Tile Transpose Unique Where Xor`.split(/\s+/),
);

/** Oldest opset the converter starts from. */
export const MIN_SOURCE_OPSET = 9;

interface Ctx {
  readonly from: number;
  readonly graph: GraphProto;
  readonly name: (base: string) => string;
  readonly out: NodeProto[];
}

function withoutAttrs(node: NodeProto, names: readonly string[]): NodeProto {
  node.attribute = node.attribute.filter((a) => !names.includes(a.name));
  return node;
}

function int64Input(ctx: Ctx, node: NodeProto, what: string, values: readonly number[]): string {
  const name = ctx.name(`${node.name || node.output[0]}_${what}`);
  ctx.graph.initializer.push(
    makeTensor(name, DT.INT64, [values.length], bytesOf(BigInt64Array.from(values.map(BigInt)))),
  );
  return name;
}

function floatScalarInput(ctx: Ctx, node: NodeProto, what: string, value: number): string {
  const name = ctx.name(`${node.name || node.output[0]}_${what}`);
  ctx.graph.initializer.push(makeTensor(name, DT.FLOAT, [], bytesOf(Float32Array.of(value))));
  return name;
}

/** Squeeze, Unsqueeze (13), ReduceSum (13), Split (13: 'split'): an ints attribute becomes input 1. */
function attrToInput(ctx: Ctx, node: NodeProto, attr: string, introducedAt: number): void {
  if (ctx.from >= introducedAt) return void ctx.out.push(node);
  const values = attrInts(node, attr);
  withoutAttrs(node, [attr]);
  if (values) node.input = [node.input[0]!, int64Input(ctx, node, attr, values)];
  ctx.out.push(node);
}

function convertClip(ctx: Ctx, node: NodeProto): void {
  if (ctx.from >= 11) return void ctx.out.push(node);
  const min = getAttr(node, 'min');
  const max = getAttr(node, 'max');
  withoutAttrs(node, ['min', 'max']);
  node.input = [
    node.input[0]!,
    min ? floatScalarInput(ctx, node, 'min', min.f) : '',
    ...(max ? [floatScalarInput(ctx, node, 'max', max.f)] : []),
  ];
  ctx.out.push(node);
}

function convertSlice(ctx: Ctx, node: NodeProto): void {
  if (ctx.from >= 10) return void ctx.out.push(node);
  const starts = attrInts(node, 'starts') ?? [];
  const ends = attrInts(node, 'ends') ?? [];
  const axes = attrInts(node, 'axes');
  withoutAttrs(node, ['starts', 'ends', 'axes']);
  node.input = [
    node.input[0]!,
    int64Input(ctx, node, 'starts', starts),
    int64Input(ctx, node, 'ends', ends),
    ...(axes ? [int64Input(ctx, node, 'axes', axes)] : []),
  ];
  ctx.out.push(node);
}

function convertPad(ctx: Ctx, node: NodeProto): void {
  if (ctx.from >= 11) return void ctx.out.push(node);
  const pads = attrInts(node, 'pads') ?? [];
  const value = attrFloat(node, 'value', 0);
  withoutAttrs(node, ['pads', 'value']);
  node.input = [node.input[0]!, int64Input(ctx, node, 'pads', pads), floatScalarInput(ctx, node, 'value', value)];
  ctx.out.push(node);
}

function convertTopK(ctx: Ctx, node: NodeProto): void {
  if (ctx.from >= 10) return void ctx.out.push(node);
  const k = attrInt(node, 'k', 1);
  withoutAttrs(node, ['k']);
  node.input = [node.input[0]!, int64Input(ctx, node, 'k', [k])];
  ctx.out.push(node);
}

/**
 * Softmax, LogSoftmax, Hardmax before 13 coerce the input to 2-D at `axis` and normalise the
 * flattened trailing part; from 13 they normalise along `axis` alone. The two agree when `axis`
 * is the last one; otherwise the old meaning is kept exactly with Flatten → op(axis=1) → Reshape.
 */
function convertSoftmaxFamily(ctx: Ctx, node: NodeProto, rankOf: (t: string) => number | undefined): void {
  if (ctx.from >= 13) return void ctx.out.push(node);
  const axis = attrInt(node, 'axis', 1);
  const rank = rankOf(node.input[0]!);
  if (axis === -1 || (rank !== undefined && (axis === rank - 1 || axis + rank === rank - 1)))
    return void ctx.out.push(node);
  const base = node.name || node.output[0]!;
  const shape = ctx.name(`${base}_input_shape`);
  const flat = ctx.name(`${base}_flat`);
  const y = ctx.name(`${base}_flat_out`);
  ctx.out.push(makeNode('Shape', [node.input[0]!], [shape], ctx.name(`${base}_shape`)));
  ctx.out.push(makeNode('Flatten', [node.input[0]!], [flat], ctx.name(`${base}_flatten`), { axis }));
  ctx.out.push(makeNode(node.opType, [flat], [y], node.name, { axis: 1 }));
  ctx.out.push(makeNode('Reshape', [y, shape], [node.output[0]!], ctx.name(`${base}_reshape`)));
}

function convertGraph(graph: GraphProto, from: number, rankOf: (t: string) => number | undefined): void {
  const ctx: Ctx = { from, graph, name: uniqueNamer(graph), out: [] };
  for (const node of graph.node) {
    for (const a of node.attribute) {
      if (a.g) convertGraph(a.g, from, rankOf);
      for (const g of a.graphs) convertGraph(g, from, rankOf);
    }
    if (node.domain !== '' && node.domain !== 'ai.onnx') {
      ctx.out.push(node);
      continue;
    }
    switch (node.opType) {
      case 'Clip':
        convertClip(ctx, node);
        break;
      case 'Slice':
        convertSlice(ctx, node);
        break;
      case 'Pad':
        convertPad(ctx, node);
        break;
      case 'TopK':
        convertTopK(ctx, node);
        break;
      case 'Squeeze':
      case 'Unsqueeze':
      case 'ReduceSum':
        attrToInput(ctx, node, 'axes', 13);
        break;
      case 'Split':
        attrToInput(ctx, node, 'split', 13);
        break;
      case 'Softmax':
      case 'LogSoftmax':
      case 'Hardmax':
        convertSoftmaxFamily(ctx, node, rankOf);
        break;
      case 'Dropout': // inference: identity; 12 moved 'ratio' to an input, which inference ignores
        ctx.out.push(withoutAttrs(node, ['ratio', 'is_test']));
        break;
      case 'Resize':
        if (from < 11) {
          throw new QuantscopeError(
            'UNSUPPORTED_OPSET',
            `node "${node.name}": Resize from opset ${from} changed meaning in opset 11 and is not converted`,
          );
        }
        ctx.out.push(node);
        break;
      default:
        if (!UNCHANGED.has(node.opType)) {
          throw new QuantscopeError(
            'UNSUPPORTED_OP',
            `node "${node.name}" (${node.opType}): the opset converter does not know how ${node.opType} changed from opset ${from} to 13`,
          );
        }
        ctx.out.push(node);
    }
  }
  graph.node = ctx.out;
}

/** Rank of a tensor where the model states it (graph inputs, outputs and value_info). */
function rankLookup(model: ModelProto): (t: string) => number | undefined {
  const g = model.graph!;
  const ranks = new Map<string, number>();
  for (const v of [...g.input, ...g.output, ...g.valueInfo]) {
    if (v.type?.value.case === 'tensorType' && v.type.value.value.shape)
      ranks.set(v.name, v.type.value.value.shape.dim.length);
  }
  for (const t of g.initializer) ranks.set(t.name, t.dims.length);
  return (t) => ranks.get(t);
}

/** Reduce ops that took `axes` as an attribute until opset 18 and as input 1 from then on. */
const REDUCE_18 = new Set([
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceMax',
  'ReduceMean',
  'ReduceMin',
  'ReduceProd',
  'ReduceSumSquare',
]);

/**
 * Ops whose meaning changed between opset 13 and 21 in ways a version bump alone would break
 * (onnx/docs/Changelog.md): GroupNormalization's scale and bias became per channel at 21, GridSample's
 * modes were renamed at 20, DFT moved dft_length and axis at 20. Every other op added only types,
 * optional inputs or attributes whose defaults keep the old behaviour, except the Reduce family (above).
 */
const BREAKING_13_TO_21: Record<string, string> = {
  GroupNormalization: 'its scale and bias changed from per group to per channel at opset 21',
  GridSample: "its 'mode' values were renamed at opset 20",
  DFT: 'dft_length and axis moved at opset 20',
};

function convertGraph13To21(graph: GraphProto, from: number): void {
  const ctx: Ctx = { from, graph, name: uniqueNamer(graph), out: [] };
  for (const node of graph.node) {
    for (const a of node.attribute) {
      if (a.g) convertGraph13To21(a.g, from);
      for (const g of a.graphs) convertGraph13To21(g, from);
    }
    if (node.domain !== '' && node.domain !== 'ai.onnx') {
      ctx.out.push(node);
      continue;
    }
    const why = BREAKING_13_TO_21[node.opType];
    if (why && from < 21)
      throw new QuantscopeError(
        'UNSUPPORTED_OP',
        `node "${node.name}" (${node.opType}) is not converted to opset 21: ${why}`,
      );
    if (REDUCE_18.has(node.opType)) attrToInput(ctx, node, 'axes', 18);
    else ctx.out.push(node);
  }
  graph.node = ctx.out;
}

/** The highest opset and IR version this build's onnxruntime (1.30) reads. */
export const MAX_TARGET_OPSET = 21;

export function upgradeOpset(model: ModelProto, target = 13): { model: ModelProto; from: number; to: number } {
  const from = defaultOpset(model);
  if (from >= target) return { model, from, to: from };
  if (target > MAX_TARGET_OPSET)
    throw new QuantscopeError(
      'UNSUPPORTED_OPSET',
      `opset ${target} is past ${MAX_TARGET_OPSET}, the newest this tool converts to`,
    );
  if (from < MIN_SOURCE_OPSET) {
    throw new QuantscopeError(
      'UNSUPPORTED_OPSET',
      `the model uses opset ${from}; Quantscope converts models from opset ${MIN_SOURCE_OPSET} and later`,
    );
  }
  const out = cloneSharingInitializers(model);
  if (from < 13) convertGraph(out.graph!, from, rankLookup(out));
  if (target > 13) convertGraph13To21(out.graph!, Math.max(from, 13));
  out.opsetImport = [
    ...out.opsetImport.filter((o) => o.domain !== '' && o.domain !== 'ai.onnx'),
    makeOpset('', target),
  ];
  const minIr = target >= 21 ? 10n : target >= 15 ? 8n : 7n;
  if (out.irVersion < 4n) {
    // Before IR 4 every initializer is also a graph input; from 4 on that makes it overridable and
    // stops runtimes from folding it, so the copies in the inputs go.
    const inits = new Set(out.graph!.initializer.map((t) => t.name));
    out.graph!.input = out.graph!.input.filter((v) => !inits.has(v.name));
  }
  if (out.irVersion < minIr) out.irVersion = minIr;
  return { model: out, from, to: target };
}
