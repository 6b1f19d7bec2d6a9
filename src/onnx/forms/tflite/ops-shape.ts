/** Shape ops: Reshape, Flatten, Squeeze/Unsqueeze and Transpose. */
import { attrInt, attrInts, type NodeProto } from '../../proto';
import { readInts } from '../../tensor';
import { NHWC, prod } from './layout';
import type { Ctx } from './ctx';

export function convertReshape(c: Ctx, node: NodeProto): void {
  const { index, val, reshape } = c;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const target = readInts(index.initializers.get(node.input[1]!)!);
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const shape = target.map((d, i) => (d === 0 && !allowZero ? x.shape[i]! : d));
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  reshape(
    node,
    x,
    shape.map((d) => (d === -1 ? prod(x.shape) / known : d)),
  );
}

export function convertFlatten(c: Ctx, node: NodeProto): void {
  const { val, reshape } = c;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const axis = attrInt(node, 'axis', 1);
  const a = axis < 0 ? axis + x.shape.length : axis;
  reshape(node, x, [prod(x.shape.slice(0, a)), prod(x.shape.slice(a))]);
}

export function convertSqueeze(c: Ctx, node: NodeProto): void {
  const { index, val, reshape } = c;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const axes = node.input[1] ? readInts(index.initializers.get(node.input[1])!) : (attrInts(node, 'axes') ?? []);
  let shape: number[];
  if (node.opType === 'Squeeze') {
    const norm = axes.map((a) => (a < 0 ? a + x.shape.length : a));
    shape = x.shape.filter((d, i) => (norm.length ? !norm.includes(i) : d !== 1));
  } else {
    const rank = x.shape.length + axes.length;
    const norm = axes.map((a) => (a < 0 ? a + rank : a));
    shape = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[j++]!);
  }
  reshape(node, x, shape);
}

export function convertTranspose(c: Ctx, node: NodeProto): void {
  const { e, vals, newAct, val } = c;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const rank = x.shape.length;
  const perm = attrInts(node, 'perm') ?? [...Array(rank).keys()].reverse();
  const outShape = perm.map((p) => x.shape[p]!);
  // File perm: y_file[i] = x_file[inv(Pin)[perm[Pout[i]]]], P the layout's dims (identity below rank 4).
  const pl = (r: number) => (r === 4 ? [...NHWC] : [...Array(r).keys()]);
  const pin = pl(rank);
  const inv = pin.map((_, i) => pin.indexOf(i));
  const q = pl(rank).map((_, i) => inv[perm[pl(rank)[i]!]!]!);
  if (q.every((v, i) => v === i)) {
    vals.set(node.output[0]!, { ...x, shape: outShape });
    return;
  }
  const out = newAct(node.output[0]!, outShape, x.q);
  e.op('TRANSPOSE', [x.index, e.int32Const(`${node.name}_perm`, q)], [out.index], node.name);
  vals.set(node.output[0]!, out);
}
