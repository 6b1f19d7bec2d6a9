/** Constants and weights: float, float16 (with DEQUANTIZE) or int8 per tensor / per channel, with int32 biases. */
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
import { bytesOf, dimsOf, type NodeProto } from '../../proto';
import { readFloat32 } from '../../tensor';
import { toHalf } from '../float16';
import { NHWC, prod, permute } from './layout';
import type { Val } from './types';
import type { QuantCtx } from './context';

export function makeConstants(c: QuantCtx) {
  const { state, e, index, calib, int8, fp16, quant } = c;
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
      state.biasesAdjusted++;
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
  return { floatConst, elementwiseConst, constOperand, scalarConst, weight, constLike };
}
