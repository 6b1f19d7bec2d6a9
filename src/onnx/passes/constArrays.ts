/**
 * The arrays constant folding computes on (passes/foldConstants): a constant tensor read as float32 or
 * as plain integers, written back in its type, and the data-movement kernels the folded ops share
 * (transpose, broadcasting binary ops, Slice).
 */
import { bytesOf, makeTensor, type TensorProto } from '../proto';
import { DT, readFloat32, readInts } from '../tensor';

export interface Arr {
  readonly type: number;
  readonly dims: number[];
  /** float32 tensors as Float32Array; integer ones as plain numbers (int64 within 2^53). */
  readonly data: Float32Array | number[];
}

export function read(t: TensorProto): Arr | null {
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
export function readIndexes(t: TensorProto): Arr | null {
  if (t.dataType !== DT.INT64 || !t.rawData.length) return read(t);
  const v = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  const data = Array.from({ length: t.rawData.byteLength / 8 }, (_, i) => {
    const x = v.getBigInt64(i * 8, true);
    return Number(x > limit ? limit : x < -limit ? -limit : x);
  });
  return { type: DT.INT64, dims: t.dims.map(Number), data };
}

export function write(name: string, a: Arr): TensorProto {
  if (a.type === DT.FLOAT) return makeTensor(name, DT.FLOAT, a.dims, bytesOf(Float32Array.from(a.data)));
  if (a.type === DT.INT64)
    return makeTensor(name, DT.INT64, a.dims, bytesOf(BigInt64Array.from((a.data as number[]).map((v) => BigInt(v)))));
  return makeTensor(name, DT.INT32, a.dims, bytesOf(Int32Array.from(a.data as number[])));
}

export const size = (dims: readonly number[]) => dims.reduce((x, y) => x * y, 1);
const strides = (dims: readonly number[]) => {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
};
export const like = (a: Arr, n: number): Float32Array | number[] =>
  a.type === DT.FLOAT ? new Float32Array(n) : new Array<number>(n).fill(0);

export function transpose(a: Arr, perm: number[]): Arr {
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

export function binary(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr | null {
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
export function sliceArr(a: Arr, starts: number[], ends: number[], axes?: number[], steps?: number[]): Arr | null {
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
