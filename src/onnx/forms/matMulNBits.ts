/**
 * The MatMulNBits form's pieces: a weight rounded on the `qdq` grid re-expressed as MatMulNBits stores
 * it, and the com.microsoft MatMulNBits node (plus a Gemm's bias Add) with its packed initializers.
 */
import type { BlockQuantized } from '../../core/blockwise';
import { DTYPES, type IntDType } from '../../core/dtype';
import { QuantscopeError } from '../../core/errors';
import type { RoundedWeight } from '../../core/algorithms/gptq';
import { attrFloat, bytesOf, makeNode, makeTensor, type NodeProto, type TensorProto } from '../proto';

/**
 * A weight rounded on the `qdq` grid as MatMulNBits stores it: codes unsigned, the signed grid shifted
 * by 2^(bits-1) (symmetric int4 [-8, 7] with zero point 0 is MatMulNBits' implicit zero point 8 with
 * the same scale: (q + 8 − 8)·s), unsigned grids as they are.
 */
export function asMatMulNBits(r: RoundedWeight, blockSize: number, dtype: IntDType): BlockQuantized {
  if (r.grouping.groupSize !== blockSize)
    throw new QuantscopeError('BAD_RANGE', `rounded in blocks of ${r.grouping.groupSize}, not ${blockSize}`);
  const shift = DTYPES[dtype].min < 0 ? -DTYPES[dtype].min : 0;
  return {
    rows: r.rows,
    cols: r.cols,
    blockSize,
    blocksPerRow: Math.ceil(r.cols / blockSize),
    q: r.q.map((v) => v + shift),
    scales: r.scales,
    zeroPoints: r.zeroPoints.map((v) => v + shift),
  };
}

/**
 * MatMulNBits(A, B, scales[, zero_points]) with K, N, bits, block_size (onnxruntime
 * contrib_ops/cpu/quantization/matmul_nbits.cc; docs/ContribOperators.md): B is uint8
 * [N, k_blocks, block_size·bits/8], K zero-padded to whole blocks (padding quantizes to the zero point);
 * scales [N·k_blocks]; zero points packed like B, per row. A Gemm's bias follows as an Add.
 */
export function matMulNBitsNodes(
  node: NodeProto,
  b: BlockQuantized,
  bits: number,
  symmetric: boolean,
  inits: TensorProto[],
  name: (s: string) => string,
): NodeProto[] {
  const n = b.rows;
  const k = b.cols;
  const kBlocks = b.blocksPerRow;
  const blob = (b.blockSize * bits) / 8;
  const packed = new Uint8Array(n * kBlocks * blob);
  for (let r = 0; r < n; r++) {
    for (let blk = 0; blk < kBlocks; blk++) {
      const zp = b.zeroPoints[r * kBlocks + blk]!;
      for (let j = 0; j < b.blockSize; j++) {
        const c = blk * b.blockSize + j;
        const code = c < k ? b.q[r * k + c]! : zp;
        const at = (r * kBlocks + blk) * blob;
        if (bits === 8) packed[at + j] = code;
        else packed[at + (j >> 1)]! |= (code & 0x0f) << ((j & 1) * 4);
      }
    }
  }
  const base = node.input[1]!;
  const bName = name(`${base}_MatMulNBits_B`);
  const sName = name(`${base}_MatMulNBits_scales`);
  inits.push(makeTensor(bName, 2, [n, kBlocks, blob], packed));
  inits.push(makeTensor(sName, 1, [n * kBlocks], bytesOf(b.scales)));
  const inputs = [node.input[0]!, bName, sName];
  if (!symmetric) {
    const zName = name(`${base}_MatMulNBits_zero_points`);
    const perRow = bits === 8 ? kBlocks : Math.ceil(kBlocks / 2);
    const z = new Uint8Array(n * perRow);
    for (let r = 0; r < n; r++) {
      for (let blk = 0; blk < kBlocks; blk++) {
        const v = b.zeroPoints[r * kBlocks + blk]!;
        if (bits === 8) z[r * perRow + blk] = v;
        else z[r * perRow + (blk >> 1)]! |= (v & 0x0f) << ((blk & 1) * 4);
      }
    }
    inits.push(makeTensor(zName, 2, [n * perRow], z));
    inputs.push(zName);
  }
  const hasBias = node.opType === 'Gemm' && node.input[2];
  const y = hasBias ? name(`${node.output[0]}_MatMulNBits`) : node.output[0]!;
  const mm = makeNode('MatMulNBits', inputs, [y], node.name, { K: k, N: n, bits, block_size: b.blockSize });
  mm.domain = 'com.microsoft';
  if (!hasBias) return [mm];
  if (attrFloat(node, 'beta', 1) !== 1)
    throw new QuantscopeError(
      'UNSUPPORTED_OP',
      `node "${node.name}": Gemm with beta ≠ 1 is not converted to MatMulNBits`,
    );
  return [mm, makeNode('Add', [y, node.input[2]!], [node.output[0]!], name(`${node.name}_bias`))];
}
