/**
 * Which ONNX nodes the TFLite writer takes, checked before any work: op types with a builtin TFLite
 * kernel (never Flex: TFLite Micro has none), and the attributes each mapping needs. Anything else is
 * refused by node name and op type.
 */
import { indexGraph, type GraphIndex } from '../../graph';
import { attrInt, attrString, type ModelProto, type NodeProto } from '../../proto';
import { readFloat32 } from '../../tensor';

export const TFLITE_ONNX_OPS: readonly string[] = [
  'Conv',
  'ConvTranspose',
  'Gemm',
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Concat',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Relu',
  'Clip',
  'Sigmoid',
  'Tanh',
  'HardSigmoid',
  'HardSwish',
  'Softmax',
  'Reshape',
  'Flatten',
  'Transpose',
  'Pad',
  'Resize',
  'Slice',
  'Squeeze',
  'Unsqueeze',
  'BatchNormalization',
  'Identity',
];
const SUPPORTED = new Set(TFLITE_ONNX_OPS);

export interface RefusedNode {
  readonly node: string;
  readonly opType: string;
  readonly reason: string;
}

const isConst = (index: GraphIndex, t: string | undefined): boolean => !!t && index.initializers.has(t);

/** ONNX Resize's (mode, coordinate_transformation_mode, nearest_mode) that TFLite's resize ops compute exactly. */
export function resizeMapping(
  node: NodeProto,
): { op: 'RESIZE_BILINEAR' | 'RESIZE_NEAREST_NEIGHBOR'; alignCorners: boolean; halfPixel: boolean } | string {
  const mode = attrString(node, 'mode', 'nearest');
  const coord = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  const nearest = attrString(node, 'nearest_mode', 'round_prefer_floor');
  if (mode === 'linear') {
    // tensorflow/lite/kernels/internal/reference/resize_bilinear.h: half_pixel_centers maps x_out to
    // (x + 0.5) * scale - 0.5 (ONNX half_pixel; pytorch_half_pixel equals it for outputs longer than 1),
    // align_corners uses (in - 1) / (out - 1); neither is ONNX's asymmetric x * scale.
    if (coord === 'half_pixel' || coord === 'pytorch_half_pixel')
      return { op: 'RESIZE_BILINEAR', alignCorners: false, halfPixel: true };
    if (coord === 'align_corners') return { op: 'RESIZE_BILINEAR', alignCorners: true, halfPixel: false };
    if (coord === 'asymmetric') return { op: 'RESIZE_BILINEAR', alignCorners: false, halfPixel: false };
    return `linear Resize with coordinate_transformation_mode "${coord}" has no TFLite equivalent`;
  }
  if (mode === 'nearest') {
    // resize_nearest_neighbor.h: in = floor(x * scale) (no flags); with half_pixel_centers
    // floor((x + 0.5) * scale), which is ONNX half_pixel + round_prefer_ceil; align_corners rounds
    // x * (in - 1) / (out - 1) half away from zero, ONNX align_corners + round_prefer_ceil.
    if (coord === 'asymmetric' && nearest === 'floor')
      return { op: 'RESIZE_NEAREST_NEIGHBOR', alignCorners: false, halfPixel: false };
    if (coord === 'half_pixel' && nearest === 'round_prefer_ceil')
      return { op: 'RESIZE_NEAREST_NEIGHBOR', alignCorners: false, halfPixel: true };
    if (coord === 'align_corners' && nearest === 'round_prefer_ceil')
      return { op: 'RESIZE_NEAREST_NEIGHBOR', alignCorners: true, halfPixel: false };
    return `nearest Resize with coordinate_transformation_mode "${coord}" and nearest_mode "${nearest}" has no TFLite equivalent`;
  }
  return `Resize mode "${mode}" has no TFLite equivalent`;
}

function clipBound(index: GraphIndex, t: string | undefined): number | undefined | 'dynamic' {
  if (!t) return undefined;
  const init = index.initializers.get(t);
  return init ? readFloat32(init)[0]! : 'dynamic';
}

/** Why a node cannot be written, or null. */
export function refusal(node: NodeProto, index: GraphIndex): string | null {
  if ((node.domain !== '' && node.domain !== 'ai.onnx') || !SUPPORTED.has(node.opType)) {
    return `${node.domain ? `${node.domain}.` : ''}${node.opType} has no TFLite builtin in this writer`;
  }
  switch (node.opType) {
    case 'Conv':
    case 'ConvTranspose': {
      if (!isConst(index, node.input[1])) return 'its weight is not a constant';
      if (node.input[2] && !isConst(index, node.input[2])) return 'its bias is not a constant';
      const w = index.initializers.get(node.input[1]!)!;
      if (w.dims.length !== 4) return `only 2-D convolutions (weight of rank ${w.dims.length})`;
      const group = attrInt(node, 'group', 1);
      if (node.opType === 'ConvTranspose' && group !== 1) return 'grouped ConvTranspose has no TFLite kernel';
      if (node.opType === 'Conv' && group !== 1 && Number(w.dims[1]) !== 1) {
        return `grouped Conv (group ${group}) that is not depthwise: TFLite Micro has no grouped CONV_2D`;
      }
      if (
        node.opType === 'ConvTranspose' &&
        (node.attribute.find((a) => a.name === 'dilations')?.ints ?? []).some((d) => Number(d) !== 1)
      )
        return 'dilated ConvTranspose has no TFLite kernel';
      return null;
    }
    case 'Gemm':
      if (attrInt(node, 'transA', 0) !== 0) return 'Gemm with transA = 1';
      if (!isConst(index, node.input[1])) return 'Gemm whose B is not a constant';
      if (node.input[2] && !isConst(index, node.input[2])) return 'Gemm whose C is not a constant';
      return null;
    case 'MatMul': {
      const b = index.initializers.get(node.input[1] ?? '');
      if (!b) return 'MatMul of two activations (no constant weight)';
      if (b.dims.length !== 2) return `MatMul weight of rank ${b.dims.length}, not 2`;
      return null;
    }
    case 'Div':
      if (!isConst(index, node.input[1])) return 'Div by an activation (only division by a constant becomes MUL)';
      return null;
    case 'Clip': {
      const lo = clipBound(index, node.input[1]);
      const hi = clipBound(index, node.input[2]);
      if (lo === 'dynamic' || hi === 'dynamic') return 'Clip with bounds computed at run time';
      return null;
    }
    case 'Resize': {
      const r = resizeMapping(node);
      if (typeof r === 'string') return r;
      const scales = node.input[2];
      const sizes = node.input[3];
      if ((scales && !isConst(index, scales)) || (sizes && !isConst(index, sizes)))
        return 'Resize whose scales or sizes are computed at run time';
      return null;
    }
    case 'Pad': {
      const mode = attrString(node, 'mode', 'constant');
      if (mode !== 'constant') return `Pad mode "${mode}"`;
      if (!isConst(index, node.input[1])) return 'Pad whose pads are computed at run time';
      if (node.input[2]) {
        const v = index.initializers.get(node.input[2]);
        if (!v) return 'Pad whose value is computed at run time';
        if (readFloat32(v)[0] !== 0) return 'Pad with a non-zero value';
      }
      if (node.input[3]) return 'Pad with axes';
      return null;
    }
    case 'Reshape':
      return isConst(index, node.input[1]) ? null : 'Reshape whose shape is computed at run time';
    case 'Slice':
      return node.input.slice(1).every((t) => !t || isConst(index, t))
        ? null
        : 'Slice whose starts, ends, axes or steps are computed at run time';
    case 'Squeeze':
    case 'Unsqueeze':
      return !node.input[1] || isConst(index, node.input[1]) ? null : `${node.opType} with axes computed at run time`;
    case 'MaxPool':
    case 'AveragePool':
      if (attrInt(node, 'ceil_mode', 0) !== 0) return `${node.opType} with ceil_mode`;
      if (node.output.length > 1 && node.output[1]) return 'MaxPool with indices';
      return null;
    case 'BatchNormalization':
      return node.input.slice(1).every((t) => isConst(index, t)) ? null : 'BatchNormalization with run-time statistics';
    case 'Add':
    case 'Sub':
    case 'Mul':
      return null;
    default:
      return null;
  }
}

/** Every node the writer refuses, in graph order (empty: the model can be written). */
export function refusedNodes(model: ModelProto): RefusedNode[] {
  const graph = model.graph!;
  const index = indexGraph(graph);
  const out: RefusedNode[] = [];
  for (const n of graph.node) {
    const r = refusal(n, index);
    if (r) out.push({ node: n.name, opType: n.opType, reason: r });
  }
  return out;
}
