/** Layout-changing helpers of the graph walk: TRANSPOSE across rank changes, RESHAPE, requantization, PAD. */
import type { QParams } from '../../../core/qparams';
import type { NodeProto } from '../../proto';
import type { UnionValue } from './schema/generated';
import { NHWC, tflShape, prod, sameOrder, fail } from './layout';
import type { Val } from './types';
import type { QuantCtx } from './context';

export function makeReshape(c: QuantCtx) {
  const { e, vals, int8, actType, quant, newAct } = c;
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
  return { toOnnxOrder, reshape, requantized, padValue };
}
