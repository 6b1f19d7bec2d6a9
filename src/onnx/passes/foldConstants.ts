/**
 * Pass: fold constant subgraphs where it is safe. A node whose inputs are all initializers (never a
 * graph input: in IR < 4 an initializer that is also an input can be overridden at run time), that
 * has no subgraph, whose outputs are not graph outputs, and whose op is one of the data-movement and
 * element-wise ops below, is computed here and becomes an initializer. Exported models often build a
 * weight this way (MatMul(x, Transpose(W)), Reshape of a constant): folded, the quantizer sees the
 * weight as a constant. Outputs over 64 M elements are left alone. Float results are float32 as in the
 * runtime; integer results keep their type.
 */
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { f32 } from '../../core/rounding';
import { pruneInitializers } from '../graph';
import { attrInt, attrInts, defaultOpset, type GraphProto, type ModelProto, type NodeProto } from '../proto';
import { shapeSlice } from '../shapeInference';
import { DT } from '../tensor';
import { binary, like, read, readIndexes, size, sliceArr, transpose, write, type Arr } from './constArrays';

const MAX_ELEMENTS = 64 * 2 ** 20;

function evaluate(node: NodeProto, ins: (Arr | null)[], opset: number): Arr[] | null {
  const [a, b] = ins;
  const flt = (x: number) => f32(x);
  switch (node.opType) {
    case 'Identity':
      return a ? [a] : null;
    case 'Transpose': {
      if (!a) return null;
      const perm = attrInts(node, 'perm') ?? a.dims.map((_, i) => a.dims.length - 1 - i);
      return [transpose(a, perm)];
    }
    case 'Reshape': {
      if (!a || !b) return null;
      const shape = (b.data as number[]).map((d, i) =>
        d === 0 && attrInt(node, 'allowzero', 0) === 0 ? a.dims[i]! : d,
      );
      const known = shape.filter((d) => d !== -1).reduce((x, y) => x * y, 1);
      const dims = shape.map((d) => (d === -1 ? a.data.length / known : d));
      return size(dims) === a.data.length ? [{ ...a, dims }] : null;
    }
    case 'Flatten': {
      if (!a) return null;
      const axis = (attrInt(node, 'axis', 1) + a.dims.length) % (a.dims.length + 1);
      return [{ ...a, dims: [size(a.dims.slice(0, axis)), size(a.dims.slice(axis))] }];
    }
    case 'Unsqueeze':
    case 'Squeeze': {
      if (!a) return null;
      const axes = (opset >= 13 ? (b ? (b.data as number[]) : undefined) : attrInts(node, 'axes'))?.map((x) => x);
      if (node.opType === 'Squeeze') {
        const rank = a.dims.length;
        const drop = new Set((axes ?? a.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((x) => (x + rank) % rank));
        return [{ ...a, dims: a.dims.filter((_, i) => !drop.has(i)) }];
      }
      if (!axes) return null;
      const rank = a.dims.length + axes.length;
      const add = new Set(axes.map((x) => (x + rank) % rank));
      const dims: number[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) dims.push(add.has(i) ? 1 : a.dims[k++]!);
      return [{ ...a, dims }];
    }
    case 'Cast': {
      if (!a) return null;
      const to = attrInt(node, 'to', 0);
      if (to === DT.FLOAT) return [{ type: DT.FLOAT, dims: a.dims, data: Float32Array.from(a.data) }];
      if (to === DT.INT64 || to === DT.INT32)
        return [{ type: to, dims: a.dims, data: Array.from(a.data, (v) => Math.trunc(v)) }];
      return null;
    }
    case 'Shape': {
      if (!a) return null;
      const dims = shapeSlice(node, a.dims);
      return [{ type: DT.INT64, dims: [dims.length], data: dims }];
    }
    case 'Slice': {
      if (!a) return null;
      // opset 10 on: starts, ends, axes, steps are inputs; before, attributes (no steps)
      const arg = (k: number, attr: string) =>
        opset >= 10 ? (ins[k] ? (ins[k].data as number[]) : undefined) : attrInts(node, attr);
      const starts = arg(1, 'starts');
      const ends = arg(2, 'ends');
      if (!starts || !ends) return null;
      const r = sliceArr(a, starts, ends, arg(3, 'axes'), opset >= 10 ? arg(4, 'steps') : undefined);
      return r ? [r] : null;
    }
    case 'Neg':
      return a
        ? [
            {
              ...a,
              data: a.type === DT.FLOAT ? (a.data as Float32Array).map((v) => -v) : (a.data as number[]).map((v) => -v),
            },
          ]
        : null;
    case 'Sqrt':
      return a && a.type === DT.FLOAT ? [{ ...a, data: (a.data as Float32Array).map((v) => flt(Math.sqrt(v))) }] : null;
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      if (!a || !b) return null;
      const isF = a.type === DT.FLOAT;
      const ops: Record<string, (x: number, y: number) => number> = {
        Add: (x, y) => (isF ? flt(x + y) : x + y),
        Sub: (x, y) => (isF ? flt(x - y) : x - y),
        Mul: (x, y) => (isF ? flt(x * y) : x * y),
        Div: (x, y) => (isF ? flt(x / y) : Math.trunc(x / y)),
      };
      const r = binary(a, b, ops[node.opType]!);
      return r ? [r] : null;
    }
    case 'Concat': {
      if (ins.some((x) => !x)) return null;
      const arrs = ins as Arr[];
      if (arrs.some((x) => x.type !== arrs[0]!.type || x.dims.length !== arrs[0]!.dims.length)) return null;
      const rank = arrs[0]!.dims.length;
      const axis = (attrInt(node, 'axis', 0) + rank) % rank;
      const dims = [...arrs[0]!.dims];
      dims[axis] = arrs.reduce((s, x) => s + x.dims[axis]!, 0);
      const outer = size(dims.slice(0, axis));
      const out = like(arrs[0]!, size(dims));
      let o = 0;
      for (let i = 0; i < outer; i++) {
        for (const x of arrs) {
          const block = size(x.dims.slice(axis));
          for (let k = 0; k < block; k++) out[o++] = x.data[i * block + k]!;
        }
      }
      return [{ type: arrs[0]!.type, dims, data: out }];
    }
    case 'Gather': {
      if (!a || !b) return null;
      const rank = a.dims.length;
      const axis = (attrInt(node, 'axis', 0) + rank) % rank;
      const outer = size(a.dims.slice(0, axis));
      const inner = size(a.dims.slice(axis + 1));
      const idx = (b.data as number[]).map((i) => (i < 0 ? i + a.dims[axis]! : i));
      const dims = [...a.dims.slice(0, axis), ...b.dims, ...a.dims.slice(axis + 1)];
      const out = like(a, size(dims));
      let o = 0;
      for (let i = 0; i < outer; i++)
        for (const j of idx) for (let k = 0; k < inner; k++) out[o++] = a.data[(i * a.dims[axis]! + j) * inner + k]!;
      return [{ type: a.type, dims, data: out }];
    }
    default:
      return null;
  }
}

export function foldConstants(model: ModelProto): { model: ModelProto; folded: number } {
  const g0 = model.graph!;
  const foldable = (g: GraphProto) => {
    const inputs = new Set(g.input.map((v) => v.name));
    const inits = new Map(g.initializer.filter((t) => !inputs.has(t.name)).map((t) => [t.name, t]));
    const outputs = new Set(g.output.map((v) => v.name));
    return g.node.filter(
      (n) =>
        (n.domain === '' || n.domain === 'ai.onnx') &&
        n.input.length > 0 &&
        n.input.every((i) => i === '' || inits.has(i)) &&
        !n.attribute.some((a) => a.g || a.graphs.length) &&
        !n.output.some((o) => outputs.has(o)),
    );
  };
  if (foldable(g0).length === 0) return { model, folded: 0 };
  const out = clone(ModelProtoSchema, model);
  const g = out.graph!;
  const opset = defaultOpset(out);
  let folded = 0;
  for (let changed = true; changed;) {
    changed = false;
    const inits = new Map(g.initializer.map((t) => [t.name, t]));
    for (const node of foldable(g)) {
      const ins = node.input.map((i, k) =>
        i ? (node.opType === 'Slice' && k > 0 ? readIndexes(inits.get(i)!) : read(inits.get(i)!)) : null,
      );
      if (node.input.some((i, k) => i !== '' && !ins[k])) continue;
      const result = evaluate(node, ins, opset);
      if (!result || result.some((r) => r.data.length > MAX_ELEMENTS)) continue;
      result.forEach((r, k) => g.initializer.push(write(node.output[k]!, r)));
      g.node = g.node.filter((n) => n !== node);
      folded++;
      changed = true;
    }
  }
  // initializers that only fed folded nodes go (a subgraph's outer reads count as reads)
  pruneInitializers(g);
  return { model: out, folded };
}
