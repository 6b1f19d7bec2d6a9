/**
 * Static QDQ export (onnx/qdq.ts): the block-quantized weights. Each writes the weight's codes, scales and
 * zero points as initializers and a DequantizeLinear-21 with block_size, and returns that DQ's output name.
 *   Conv   — blocks along the input channels (axis 1, onnx/weightMatrix.ts's layout)
 *   MatMul/Gemm — blocks along the reduction axis (onnx/forms/weightView.ts)
 * The bias stays float in both.
 */
import type { WeightConfig } from '../core/config';
import { DTYPES } from '../core/dtype';
import { quantizeBlockwise, quantizeBlockwiseColumns } from '../core/blockwise';
import { roundToNearest } from '../core/algorithms/gptq';
import { transpose2d, type WeightView } from './forms/weightView';
import type { WeightMatrix } from './weightMatrix';
import { bytesOf, dimsOf, makeNode, makeTensor, type NodeProto, type TensorProto } from './proto';
import { intBytes } from './intTensorBytes';

/** Where the block writers put what they make: fresh names, new initializers, weight DequantizeLinear nodes. */
export interface QdqSink {
  readonly name: (base: string) => string;
  readonly newInits: TensorProto[];
  readonly weightDqNodes: NodeProto[];
}

/** A Conv weight quantized in blocks along its input channels. */
export function convBlockWeightDq(
  sink: QdqSink,
  wt: TensorProto,
  base: string,
  convBlocks: WeightMatrix,
  blockWc: WeightConfig,
): string {
  const { name, newInits, weightDqNodes } = sink;
  const t = convBlocks.toTensors(
    roundToNearest(convBlocks.matrix, convBlocks.rows, convBlocks.cols, {
      dtype: blockWc.dtype,
      symmetric: blockWc.symmetric,
      ...convBlocks.grouping,
    }),
  );
  const wq = name(`${base}_quantized`);
  const ws = name(`${base}_scale`);
  const wzp = name(`${base}_zero_point`);
  const wdq = name(`${base}_DequantizeLinear_Output`);
  newInits.push(makeTensor(wq, DTYPES[blockWc.dtype].onnx, dimsOf(wt), intBytes(blockWc.dtype, t.q)));
  newInits.push(makeTensor(ws, 1, t.scaleDims, bytesOf(t.scales)));
  newInits.push(makeTensor(wzp, DTYPES[blockWc.dtype].onnx, t.scaleDims, intBytes(blockWc.dtype, t.zeroPoints)));
  weightDqNodes.push(
    makeNode('DequantizeLinear', [wq, ws, wzp], [wdq], name(`${base}_DequantizeLinear`), {
      axis: t.axis,
      block_size: t.blockSize!,
    }),
  );
  return wdq;
}

/** A MatMul or Gemm weight quantized in blocks along its reduction axis. */
export function matmulBlockWeightDq(
  sink: QdqSink,
  wt: TensorProto,
  base: string,
  view: WeightView,
  blockWc: WeightConfig,
): string {
  const { name, newInits, weightDqNodes } = sink;
  const b = view.storedKN
    ? quantizeBlockwiseColumns(view.storedKN, view.cols, view.rows, blockWc.blockSize!, {
        dtype: blockWc.dtype,
        symmetric: blockWc.symmetric,
      })
    : quantizeBlockwise(view.matrix, view.rows, view.cols, blockWc.blockSize!, {
        dtype: blockWc.dtype,
        symmetric: blockWc.symmetric,
        convention: 'qdq',
      });
  const shape = dimsOf(wt);
  const codes = b.layout === 'columns' ? b.q : view.toOriginal(b.q, (n) => new Int32Array(n));
  const [scales, zps, sdims] =
    view.blockAxis === 0
      ? [
          transpose2d(b.scales, view.rows, b.blocksPerRow, (n) => new Float32Array(n)),
          transpose2d(b.zeroPoints, view.rows, b.blocksPerRow, (n) => new Int32Array(n)),
          [b.blocksPerRow, view.rows],
        ]
      : [b.scales, b.zeroPoints, [view.rows, b.blocksPerRow]];
  const wq = name(`${base}_quantized`);
  const ws = name(`${base}_scale`);
  const wzp = name(`${base}_zero_point`);
  const wdq = name(`${base}_DequantizeLinear_Output`);
  newInits.push(makeTensor(wq, DTYPES[blockWc.dtype].onnx, shape, intBytes(blockWc.dtype, codes)));
  newInits.push(makeTensor(ws, 1, sdims, bytesOf(scales)));
  newInits.push(makeTensor(wzp, DTYPES[blockWc.dtype].onnx, sdims, intBytes(blockWc.dtype, zps)));
  weightDqNodes.push(
    makeNode('DequantizeLinear', [wq, ws, wzp], [wdq], name(`${base}_DequantizeLinear`), {
      axis: view.blockAxis,
      block_size: blockWc.blockSize!,
    }),
  );
  return wdq;
}
