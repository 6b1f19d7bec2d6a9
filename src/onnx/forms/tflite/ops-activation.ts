/** Activations: Relu/Clip, Sigmoid/Tanh, Softmax, HardSwish, HardSigmoid (the spec-fixed ranges among them). */
import type { QParams } from '../../../core/qparams';
import { attrFloat, attrInt, type NodeProto } from '../../proto';
import { tflShape, tflAxis, minMax, hardSwish, fail, ACT, clampRange } from './layout';
import type { Ctx } from './ctx';

export function convertClip(c: Ctx, node: NodeProto): void {
  const { e, vals, int8, actType, quant, newAct, val, constLike, clipBounds, activationKind } = c;
  const x0 = node.input[0];
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
}

export function convertSigmoid(c: Ctx, node: NodeProto): void {
  const { e, vals, int8, derivedRanges, newAct, val } = c;
  const x0 = node.input[0];
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
}

export function convertSoftmax(c: Ctx, node: NodeProto): void {
  const { e, vals, int8, derivedRanges, newAct, val } = c;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const axis = attrInt(node, 'axis', -1);
  if (tflAxis(axis, x.shape.length) !== x.shape.length - 1)
    fail(node, `softmax over axis ${axis} is not the file's last axis`);
  const q = int8 ? { scale: 1 / 256, zeroPoint: -128 } : undefined;
  if (int8) derivedRanges.push({ tensor: node.output[0]!, how: 'fixed by the TFLite int8 spec (SOFTMAX)' });
  const out = newAct(node.output[0]!, x.shape, q);
  e.op('SOFTMAX', [x.index], [out.index], node.name, { type: 'SoftmaxOptions', value: { beta: 1 } });
  vals.set(node.output[0]!, out);
}

export function convertHardSwish(c: Ctx, node: NodeProto): void {
  const { e, vals, int8, outParams, newAct, val } = c;
  const x0 = node.input[0];
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
}

export function convertHardSigmoid(c: Ctx, node: NodeProto): void {
  const { e, vals, int8, paramsFor, outParams, newAct, val, scalarConst } = c;
  const x0 = node.input[0];
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
}
