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
import {
  attrInt,
  attrInts,
  bytesOf,
  defaultOpset,
  makeTensor,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../proto';
import { shapeSlice } from '../shapeInference';
import { DT, readFloat32, readInts } from '../tensor';

const MAX_ELEMENTS = 64 * 2 ** 20;

interface Arr {
  readonly type: number;
  readonly dims: number[];
  /** float32 tensors as Float32Array; integer ones as plain numbers (int64 within 2^53). */
  readonly data: Float32Array | number[];
}

function read(t: TensorProto): Arr | null {
  const dims = t.dims.map(Number);
  if (t.dataType === DT.FLOAT) return { type: DT.FLOAT, dims, data: readFloat32(t) };
  if (t.dataType === DT.INT64 || t.dataType === DT.INT32) {
    try {
      return { type: t.dataType, dims, data: readInts(t) };
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Slice's starts, ends, axes and steps: int64 values past 2^53 (INT64_MAX for "to the end" is the
 * usual) clamped to ±2^53, which Slice clamps to the dimension anyway.
 */
function readIndexes(t: TensorProto): Arr | null {
  if (t.dataType !== DT.INT64 || !t.rawData.length) return read(t);
  const v = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  const data = Array.from({ length: t.rawData.byteLength / 8 }, (_, i) => {
    const x = v.getBigInt64(i * 8, true);
    return Number(x > limit ? limit : x < -limit ? -limit : x);
  });
  return { type: DT.INT64, dims: t.dims.map(Number), data };
}

function write(name: string, a: Arr): TensorProto {
  if (a.type === DT.FLOAT) return makeTensor(name, DT.FLOAT, a.dims, bytesOf(Float32Array.from(a.data)));
  if (a.type === DT.INT64)
    return makeTensor(name, DT.INT64, a.dims, bytesOf(BigInt64Array.from((a.data as number[]).map((v) => BigInt(v)))));
  return makeTensor(name, DT.INT32, a.dims, bytesOf(Int32Array.from(a.data as number[])));
}

const size = (dims: readonly number[]) => dims.reduce((x, y) => x * y, 1);
const strides = (dims: readonly number[]) => {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
};
const like = (a: Arr, n: number): Float32Array | number[] =>
  a.type === DT.FLOAT ? new Float32Array(n) : new Array<number>(n).fill(0);

function transpose(a: Arr, perm: number[]): Arr {
  const dims = perm.map((p) => a.dims[p]!);
  const inS = strides(a.dims);
  const outS = strides(dims);
  const out = like(a, a.data.length);
  const idx = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let rem = o;
    let src = 0;
    for (let k = 0; k < dims.length; k++) {
      idx[k] = Math.floor(rem / outS[k]!);
      rem -= idx[k]! * outS[k]!;
      src += idx[k]! * inS[perm[k]!]!;
    }
    out[o] = a.data[src]!;
  }
  return { type: a.type, dims, data: out };
}

function broadcastDims(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

function binary(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr | null {
  if (a.type !== b.type) return null;
  const dims = broadcastDims(a.dims, b.dims);
  if (!dims) return null;
  const n = size(dims);
  const out = like(a, n);
  const oS = strides(dims);
  const off = (src: readonly number[]) => {
    const pad = dims.length - src.length;
    const s = strides(src);
    return (o: number) => {
      let rem = o;
      let at = 0;
      for (let k = 0; k < dims.length; k++) {
        const i = Math.floor(rem / oS[k]!);
        rem -= i * oS[k]!;
        if (k >= pad && src[k - pad]! !== 1) at += i * s[k - pad]!;
      }
      return at;
    };
  };
  const ia = off(a.dims);
  const ib = off(b.dims);
  for (let o = 0; o < n; o++) out[o] = f(a.data[ia(o)]!, b.data[ib(o)]!);
  return { type: a.type, dims, data: out };
}

/**
 * Slice (Operators.md, Slice): per axis, start and end counted from the end when negative, then
 * clamped to [0, dim] for a positive step and to [0, dim - 1] / [-1, dim - 1] for a negative one.
 */
function sliceArr(a: Arr, starts: number[], ends: number[], axes?: number[], steps?: number[]): Arr | null {
  const rank = a.dims.length;
  const from = a.dims.map(() => 0);
  const step = a.dims.map(() => 1);
  const count = [...a.dims];
  for (let i = 0; i < starts.length; i++) {
    const axis = ((axes?.[i] ?? i) + rank) % rank;
    const dim = a.dims[axis]!;
    const st = steps?.[i] ?? 1;
    if (st === 0 || ends[i] === undefined) return null;
    let b = starts[i]! < 0 ? starts[i]! + dim : starts[i]!;
    let e = ends[i]! < 0 ? ends[i]! + dim : ends[i]!;
    if (st > 0) {
      b = Math.min(dim, Math.max(0, b));
      e = Math.min(dim, Math.max(0, e));
    } else {
      b = Math.min(dim - 1, Math.max(0, b));
      e = Math.min(dim - 1, Math.max(-1, e));
    }
    from[axis] = b;
    step[axis] = st;
    count[axis] = Math.max(0, Math.ceil((e - b) / st));
  }
  const inS = strides(a.dims);
  const outS = strides(count);
  const out = like(a, size(count));
  for (let o = 0; o < out.length; o++) {
    let rem = o;
    let src = 0;
    for (let k = 0; k < rank; k++) {
      const i = Math.floor(rem / outS[k]!);
      rem -= i * outS[k]!;
      src += (from[k]! + i * step[k]!) * inS[k]!;
    }
    out[o] = a.data[src]!;
  }
  return { type: a.type, dims: count, data: out };
}

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
