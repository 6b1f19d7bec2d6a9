/**
 * How a weight-only node's constant weight maps to a [output channels, reduction] matrix (`WeightView`),
 * with the DequantizeLinear axes for its scales; shared by the weight-only forms and onnx/qdq.ts.
 */
import { attrFloat, attrInt, type NodeProto, type TensorProto } from '../proto';
import { readFloat32 } from '../tensor';

/** The weight as a [rows, cols] matrix whose rows are the output channels and cols the reduction axis. */
export interface WeightView {
  readonly rows: number;
  readonly cols: number;
  /** Row-major [rows, cols] values (computed on first use for weights stored [K, N]). */
  readonly matrix: Float32Array;
  /** The weight itself when it is stored [K, N] (reduction first): blocks along K quantize it in place. */
  readonly storedKN?: Float32Array;
  /** Back from [rows, cols] layout to the initializer's own. */
  readonly toOriginal: <T extends { length: number; [i: number]: number }>(m: T, make: (n: number) => T) => T;
  /** DequantizeLinear's axis for per-channel scales, and for blocks (the reduction axis). */
  readonly channelAxis: number;
  readonly blockAxis: number;
}

export function transpose2d<T extends { length: number; [i: number]: number }>(
  m: T,
  rows: number,
  cols: number,
  make: (n: number) => T,
): T {
  const out = make(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}

/** A [K, N] weight's view: rows are the N outputs; the transposed matrix is built only if asked for. */
function kn(data: Float32Array, k: number, n: number): WeightView {
  let matrix: Float32Array | undefined;
  return {
    rows: n,
    cols: k,
    get matrix() {
      return (matrix ??= transpose2d(data, k, n, (len) => new Float32Array(len)));
    },
    storedKN: data,
    toOriginal: (m, make) => transpose2d(m, n, k, make),
    channelAxis: 1,
    blockAxis: 0,
  };
}

/** How a node's constant weight maps to [output channels, reduction]; a reason when it does not. */
export function weightView(node: NodeProto, w: TensorProto): WeightView | string {
  const dims = w.dims.map(Number);
  const data = readFloat32(w);
  const identity = <T>(m: T) => m;
  switch (node.opType) {
    case 'MatMul': {
      if (dims.length !== 2) return `its weight has rank ${dims.length}, not 2`;
      const [k, n] = dims as [number, number];
      return kn(data, k, n);
    }
    case 'Gemm': {
      if (dims.length !== 2) return `its weight has rank ${dims.length}, not 2`;
      if (attrInt(node, 'transA', 0) !== 0) return 'transA=1 is not handled';
      if (attrFloat(node, 'alpha', 1) !== 1) return 'alpha is not 1';
      if (attrInt(node, 'transB', 0) === 1) {
        const [n, k] = dims as [number, number];
        return { rows: n, cols: k, matrix: data, toOriginal: identity, channelAxis: 0, blockAxis: 1 };
      }
      const [k, n] = dims as [number, number];
      return kn(data, k, n);
    }
    case 'Conv': {
      const m = dims[0]!;
      return { rows: m, cols: data.length / m, matrix: data, toOriginal: identity, channelAxis: 0, blockAxis: 1 };
    }
    case 'Gather': {
      if (dims.length !== 2) return `its data has rank ${dims.length}, not 2`;
      if (attrInt(node, 'axis', 0) !== 0) return 'it gathers along an axis other than 0';
      const [v, d] = dims as [number, number];
      return { rows: v, cols: d, matrix: data, toOriginal: identity, channelAxis: 0, blockAxis: 1 };
    }
    default:
      return `${node.opType} is not a weight-only op`;
  }
}
