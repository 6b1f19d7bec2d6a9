/**
 * A node's constant weight as the [rows, cols] matrix the weight-rounding algorithms work on (rows:
 * output channels; cols: the reduction axis, in the order the export's blocks run), and the way back
 * from rounded codes and per-group scales to the DequantizeLinear tensors of the weight-only form.
 *
 *  - MatMul [K, N] (Gemm without transB): rows N, cols K; blocks along K (DequantizeLinear axis 0,
 *    scales [K/B, N]) or per channel (axis 1, scales [N]).
 *  - Gemm with transB [N, K]: rows N, cols K; blocks along axis 1 (scales [N, K/B]) or axis 0.
 *  - Conv [M, C/g, kH, kW]: rows M; per channel (axis 0) the columns are the im2col order
 *    c·kH·kW + i·kW + j; with blocks along the input channels (DequantizeLinear-21 axis 1, block_size B,
 *    scales [M, ceil((C/g)/B), kH, kW]) the columns are reordered kernel position first, (i·kW + j)·C/g + c,
 *    so that each block is a run of B consecutive columns (a segment of C/g columns per position).
 *    A Conv with fewer than B input channels a group (depthwise) keeps per-channel scales.
 *    `im2colColumn` maps a matrix column to its im2col column; the rounding itself is indifferent to
 *    column order (GPTQ's act-order reorders too).
 */
import type { RoundedWeight } from '../core/algorithms/gptq';
import { groupsPerRow, type Grouping } from '../core/algorithms/grid';
import { attrFloat, attrInt, type NodeProto, type TensorProto } from './proto';
import { readFloat32 } from './tensor';

export interface WeightMatrix {
  readonly rows: number;
  readonly cols: number;
  /** Row-major [rows, cols] in this matrix's column order. */
  readonly matrix: Float32Array;
  readonly grouping: Grouping;
  /** Conv groups: rows split in this many equal parts, each fed by its own input channels. */
  readonly convGroups: number;
  /** Matrix column → im2col column (Conv with blocks); absent when the orders agree. */
  readonly im2colColumn?: Int32Array;
  /** The DequantizeLinear tensors of a rounded weight. */
  toTensors(r: RoundedWeight): DequantizeTensors;
}

export interface DequantizeTensors {
  /** Codes in the weight's own layout and shape. */
  readonly q: Int32Array;
  readonly scales: Float32Array;
  readonly zeroPoints: Int32Array;
  readonly scaleDims: number[];
  readonly axis: number;
  readonly blockSize: number | null;
}

function transpose<T extends Float32Array | Int32Array>(m: T, rows: number, cols: number): T {
  const out = new (m.constructor as new (n: number) => T)(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}

/** Which input of the node holds its weight (MatMul/Gemm/Conv: 1). */
export const WEIGHT_INPUT_INDEX = 1;

/** The weight matrix of a MatMul, Gemm or Conv node, or the reason it has none. */
export function weightMatrix(node: NodeProto, w: TensorProto, blockSize: number | null): WeightMatrix | string {
  const dims = w.dims.map(Number);
  const data = readFloat32(w);
  const grouping: Grouping = { groupSize: blockSize };
  if (node.opType === 'MatMul' || node.opType === 'Gemm') {
    if (dims.length !== 2) return `its weight has rank ${dims.length}, not 2`;
    if (node.opType === 'Gemm' && attrInt(node, 'transA', 0) !== 0) return 'transA=1 is not handled';
    if (node.opType === 'Gemm' && attrFloat(node, 'alpha', 1) !== 1) return 'alpha is not 1';
    const transB = node.opType === 'Gemm' && attrInt(node, 'transB', 0) === 1;
    const [d0, d1] = dims as [number, number];
    const rows = transB ? d0 : d1;
    const cols = transB ? d1 : d0;
    return {
      rows,
      cols,
      matrix: transB ? data : transpose(data, d0, d1),
      grouping,
      convGroups: 1,
      toTensors(r) {
        const gpr = groupsPerRow(cols, grouping);
        const q = transB ? r.q : transpose(r.q, rows, cols);
        if (blockSize === null)
          return { q, scales: r.scales, zeroPoints: r.zeroPoints, scaleDims: [rows], axis: transB ? 0 : 1, blockSize };
        return transB
          ? { q, scales: r.scales, zeroPoints: r.zeroPoints, scaleDims: [rows, gpr], axis: 1, blockSize }
          : {
              q,
              scales: transpose(r.scales, rows, gpr),
              zeroPoints: transpose(r.zeroPoints, rows, gpr),
              scaleDims: [gpr, rows],
              axis: 0,
              blockSize,
            };
      },
    };
  }
  if (node.opType === 'Conv') {
    if (dims.length !== 4 && dims.length !== 3) return `its weight has rank ${dims.length}, not 3 or 4`;
    const [m, cg] = dims as [number, number];
    const kh = dims.length === 4 ? dims[2]! : 1;
    const kw = dims[dims.length - 1]!;
    const ks = kh * kw;
    const cols = cg * ks;
    const convGroups = attrInt(node, 'group', 1);
    // a block needs as many input channels as its size (a depthwise Conv has one): per channel instead
    if (blockSize === null || cg < blockSize)
      return {
        rows: m,
        cols,
        matrix: data,
        grouping: { groupSize: null },
        convGroups,
        toTensors: (r) => ({
          q: r.q,
          scales: r.scales,
          zeroPoints: r.zeroPoints,
          scaleDims: [m],
          axis: 0,
          blockSize: null,
        }),
      };
    // kernel position first: matrix column s·cg + c ↔ weight column c·ks + s
    const im2colColumn = new Int32Array(cols);
    for (let s = 0; s < ks; s++) for (let c = 0; c < cg; c++) im2colColumn[s * cg + c] = c * ks + s;
    const matrix = new Float32Array(m * cols);
    for (let r = 0; r < m; r++)
      for (let j = 0; j < cols; j++) matrix[r * cols + j] = data[r * cols + im2colColumn[j]!]!;
    const blocked: Grouping = { groupSize: blockSize, segment: cg };
    const nb = Math.ceil(cg / blockSize);
    return {
      rows: m,
      cols,
      matrix,
      grouping: blocked,
      convGroups,
      im2colColumn,
      toTensors(r) {
        const q = new Int32Array(m * cols);
        for (let row = 0; row < m; row++)
          for (let j = 0; j < cols; j++) q[row * cols + im2colColumn[j]!] = r.q[row * cols + j]!;
        // group k = s·nb + b of row `row` → scale [row, b, s] of [M, nb, kH, kW]
        const scales = new Float32Array(m * nb * ks);
        const zeroPoints = new Int32Array(m * nb * ks);
        const gpr = nb * ks;
        for (let row = 0; row < m; row++)
          for (let s = 0; s < ks; s++)
            for (let b = 0; b < nb; b++) {
              scales[(row * nb + b) * ks + s] = r.scales[row * gpr + s * nb + b]!;
              zeroPoints[(row * nb + b) * ks + s] = r.zeroPoints[row * gpr + s * nb + b]!;
            }
        const scaleDims = dims.length === 4 ? [m, nb, kh, kw] : [m, nb, kw];
        return { q, scales, zeroPoints, scaleDims, axis: 1, blockSize };
      },
    };
  }
  return `${node.opType} has no weight matrix here`;
}
