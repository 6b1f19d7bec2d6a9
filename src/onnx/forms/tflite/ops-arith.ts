/** Arithmetic: Add/Sub/Mul (broadcast), Div by a constant, BatchNormalization as MUL + ADD. */
import type { QParams } from '../../../core/qparams';
import { attrFloat, dimsOf, type NodeProto } from '../../proto';
import { readFloat32 } from '../../tensor';
import type { UnionValue } from './schema/generated';
import { NHWC, prod, permute, minMax, fail, ACT, clampRange } from './layout';
import type { Val } from './types';
import type { Ctx } from './ctx';

export function convertElementwise(c: Ctx, node: NodeProto, op: 'ADD' | 'SUB' | 'MUL'): void {
  const { e, vals, index, int8, outParams, newAct, val, elementwiseConst, outputOf } = c;
  const [a, b] = [node.input[0]!, node.input[1]!];
  const aConst = index.initializers.has(a);
  const bConst = index.initializers.has(b);
  if (aConst && bConst) fail(node, 'both inputs are constants (prepare the model to fold them)');
  const act = aConst ? val(node, b) : val(node, a);
  const other = aConst ? a : b;
  const otherVal = aConst || bConst ? elementwiseConst(other, other, act.shape.length, node.name) : val(node, other);
  const [x, y] = aConst ? [otherVal, act] : [act, otherVal];
  const shape = broadcastShape(node, x, y, aConst || bConst);
  const o = outputOf(node);
  let q: QParams | undefined;
  if (int8) {
    const ra = x.range ?? [0, 0];
    const rb = y.range ?? [0, 0];
    const r: [number, number] =
      op === 'ADD'
        ? [ra[0] + rb[0], ra[1] + rb[1]]
        : op === 'SUB'
          ? [ra[0] - rb[1], ra[1] - rb[0]]
          : minMax([ra[0] * rb[0], ra[0] * rb[1], ra[1] * rb[0], ra[1] * rb[1]]);
    q = outParams(o.name, clampRange(r, ...o.bounds), `${op} of its inputs' ranges`);
  }
  const out = newAct(o.name, shape, q);
  const options: UnionValue =
    op === 'ADD'
      ? { type: 'AddOptions', value: { fused_activation_function: ACT[o.fusedAct] } }
      : op === 'SUB'
        ? { type: 'SubOptions', value: { fused_activation_function: ACT[o.fusedAct] } }
        : { type: 'MulOptions', value: { fused_activation_function: ACT[o.fusedAct] } };
  e.op(op, [x.index, y.index], [out.index], node.name, options);
  vals.set(o.name, out);
}

function broadcastShape(node: NodeProto, x: Val, y: Val, hasConst: boolean): number[] {
  // Constants were reshaped to the activation's layout already; shapes here are ONNX-order for activations.
  if (hasConst) return [...(x.shape.length >= y.shape.length ? x.shape : y.shape)];
  const rank = Math.max(x.shape.length, y.shape.length);
  const pad = (s: readonly number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const [xs, ys] = [pad(x.shape), pad(y.shape)];
  if (x.shape.length !== y.shape.length && rank === 4)
    fail(node, 'broadcast between a rank-4 and a lower-rank activation');
  return xs.map((d, i) => {
    if (d !== ys[i] && d !== 1 && ys[i] !== 1) fail(node, `shapes [${x.shape}] and [${y.shape}] do not broadcast`);
    return Math.max(d, ys[i]!);
  });
}

export function convertDiv(ctx: Ctx, node: NodeProto): void {
  const { e, vals, index, int8, outParams, newAct, val, constOperand } = ctx;
  const x0 = node.input[0];
  // x / c as x * (1 / c): TFLite Micro's DIV has no int8 kernel.
  const x = val(node, x0!);
  const c = readFloat32(index.initializers.get(node.input[1]!)!);
  const init = index.initializers.get(node.input[1]!)!;
  const recip = c.map((v) => 1 / v);
  let shape = dimsOf(init);
  let data = recip;
  if (x.shape.length === 4 && shape.length > 0 && prod(shape) > 1) {
    shape = [...new Array<number>(4 - shape.length).fill(1), ...shape];
    data = permute(data, shape, NHWC, (n) => new Float32Array(n));
    shape = NHWC.map((i) => shape[i]!);
  }
  const cv = constOperand(`${node.input[1]}_reciprocal`, data, shape.length ? shape : [1], node.name);
  let q: QParams | undefined;
  if (int8) {
    const r = x.range!;
    const m = minMax([...recip].flatMap((v) => [r[0] * v, r[1] * v]));
    q = outParams(node.output[0]!, m, 'Div by a constant of its input range');
  }
  const out = newAct(node.output[0]!, x.shape, q);
  e.op('MUL', [x.index, cv.index], [out.index], node.name, { type: 'MulOptions', value: {} });
  vals.set(node.output[0]!, out);
}

export function convertBatchNormalization(c: Ctx, node: NodeProto): void {
  const { e, vals, index, int8, paramsFor, outParams, newAct, val, constOperand, outputOf } = c;
  const x0 = node.input[0];
  // y = x * s + t per channel, s = γ / sqrt(var + ε), t = β - mean * s (onnx/docs/Operators.md).
  const x = val(node, x0!);
  const [g, bta, mean, vr] = node.input.slice(1).map((t) => readFloat32(index.initializers.get(t)!));
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const sc = g!.map((gv, c) => gv / Math.sqrt(vr![c]! + eps));
  const sh = bta!.map((bv, c) => bv - mean![c]! * sc[c]!);
  const cshape = x.shape.length === 4 ? [sc.length] : [sc.length];
  const y = node.output[0]!;
  const r = x.range ?? [0, 0];
  const r1 = minMax([...sc].flatMap((v) => [r[0] * v, r[1] * v]));
  const q1 = int8 ? paramsFor(`${y}_scaled`, r1[0], r1[1]) : undefined;
  const t1 = newAct(`${y}_scaled`, x.shape, q1);
  e.op('MUL', [x.index, constOperand(`${node.name}_scale`, sc, cshape, node.name).index], [t1.index], node.name, {
    type: 'MulOptions',
    value: {},
  });
  const o = outputOf(node);
  const r2 = minMax([...sh].flatMap((v) => [r1[0] + v, r1[1] + v]));
  const q = int8 ? outParams(o.name, r2, 'BatchNormalization of its input range') : undefined;
  const out = newAct(o.name, x.shape, q);
  e.op('ADD', [t1.index, constOperand(`${node.name}_shift`, sh, cshape, node.name).index], [out.index], node.name, {
    type: 'AddOptions',
    value: { fused_activation_function: ACT[o.fusedAct] },
  });
  vals.set(o.name, out);
}
