/**
 * The copies calibration recomputes instead of fetching (onnx/derivedTensors.ts plans them, beside the
 * elementwise ops of elementwise.ts): a copy moves float32 values without arithmetic, so the recomputed
 * tensor has the bits onnxruntime would have returned.
 *  - Concat (ONNX Concat-13): the inputs' blocks along `axis` one after another; a negative axis
 *    counts from the end.
 *  - Resize with mode nearest, coordinate_transformation_mode asymmetric and nearest_mode floor, at an
 *    integer upsampling scale s on every axis (ONNX Resize-11/13/18/19): the spec's input coordinate
 *    is x_original = x_resized / s (asymmetric) and the index floor(x_original) (floor), i.e. the
 *    integer map in = floor(out / s): each input value repeated s times along each axis. The output
 *    length is floor(in · s) = in · s. onnxruntime's upsamplebase.h computes the same coordinate in
 *    float32 (x_resized / scale): for out = q·s + r (0 <= r < s) the float32 quotient stays within half
 *    an ulp of q + r/s, below q + 1 by at least 1/s, so its floor is q for any tensor under 2^20
 *    elements an axis (tested against onnxruntime, scales 2 and 3). Upsample-7/9 and Resize-10 nearest,
 *    and the other coordinate/rounding pairs that pick the same index, are this copy too
 *    (onnx/derivedTensors.ts: FLOOR_MAP_MODES).
 * Pure functions over typed arrays; `dims` are row-major shapes.
 */
import { QuantscopeError } from './errors';
import { sizeOf, type Float32Tensor } from './float32Tensor';

export type CopyOp = 'Concat' | 'Resize';

/** Concat's axis (may be negative); Resize's integer upsampling scale on every axis. */
export interface CopyAttrs {
  readonly axis?: number;
  readonly scales?: readonly number[];
}

/** One tensor copied out of named tensors (a recomputed calibration tensor). */
export interface CopyStep {
  readonly output: string;
  readonly op: CopyOp;
  readonly inputs: readonly string[];
  readonly attrs: CopyAttrs;
}

function concatAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank)
    throw new QuantscopeError('BAD_TENSOR', `Concat: axis ${axis} is outside a rank-${rank} tensor`);
  return a;
}

/** The shape a copy step makes from its inputs' shapes (a coded error when they do not fit). */
export function copyDims(op: CopyOp, attrs: CopyAttrs, inputs: readonly (readonly number[])[]): number[] {
  const first = inputs[0];
  if (!first) throw new QuantscopeError('BAD_TENSOR', `${op}: no input`);
  if (op === 'Resize') {
    const s = attrs.scales ?? [];
    if (s.length !== first.length || s.some((v) => !Number.isInteger(v) || v < 1))
      throw new QuantscopeError('BAD_TENSOR', `Resize: scales [${s}] are not integer upsampling of [${first}]`);
    return first.map((d, i) => d * s[i]!);
  }
  const axis = concatAxis(attrs.axis ?? 0, first.length);
  const out = [...first];
  for (const d of inputs.slice(1)) {
    if (d.length !== first.length || d.some((v, i) => i !== axis && v !== first[i]))
      throw new QuantscopeError('BAD_TENSOR', `Concat: shapes [${first}] and [${d}] differ off axis ${axis}`);
    out[axis]! += d[axis]!;
  }
  return out;
}

/** Concat: for each index before the axis, each input's block (its axis and the axes after) in turn. */
function concat(axis: number, inputs: readonly Float32Tensor[], out: Float32Array): void {
  const outer = sizeOf(inputs[0]!.dims.slice(0, axis));
  const blocks = inputs.map((t) => sizeOf(t.dims.slice(axis)));
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inputs.length; i++) {
      const b = blocks[i]!;
      const x = inputs[i]!.data;
      const from = o * b;
      if (b >= 16) out.set(x.subarray(from, from + b), at);
      else for (let k = 0; k < b; k++) out[at + k] = x[from + k]!;
      at += b;
    }
  }
}

/**
 * Nearest upsampling by integer scales: out[j_0, ..., j_r] = x[floor(j_0 / s_0), ..., floor(j_r / s_r)].
 * The last axis repeats each value s times; each earlier axis copies the s-times-longer block it made
 * for an input index s - 1 more times.
 */
function upsample(x: Float32Tensor, scales: readonly number[], out: Float32Array): void {
  const dims = x.dims;
  const rank = dims.length;
  const data = x.data;
  if (rank === 0) {
    out[0] = data[0]!;
    return;
  }
  const inStride = new Array<number>(rank);
  const outStride = new Array<number>(rank);
  inStride[rank - 1] = 1;
  outStride[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) {
    inStride[d] = inStride[d + 1]! * dims[d + 1]!;
    outStride[d] = outStride[d + 1]! * dims[d + 1]! * scales[d + 1]!;
  }
  const last = rank - 1;
  const sLast = scales[last]!;
  const fill = (d: number, src: number, dst: number): void => {
    const n = dims[d]!;
    const s = scales[d]!;
    if (d === last) {
      // in = floor(out / s): the input index i fills out[i·s .. i·s + s - 1]
      for (let i = 0; i < n; i++) {
        const v = data[src + i]!;
        for (let t = 0; t < sLast; t++) out[dst++] = v;
      }
      return;
    }
    const block = outStride[d]!;
    for (let i = 0; i < n; i++) {
      const start = dst + i * s * block;
      fill(d + 1, src + i * inStride[d]!, start);
      for (let t = 1; t < s; t++) out.copyWithin(start + t * block, start, start + block);
    }
  };
  fill(0, 0, 0);
}

/**
 * One copy step over float32 tensors, into `into` when it has the result's length (a buffer reused
 * sample after sample, or the elementwise kernel's memory), else into a new array.
 */
export function applyCopy(
  op: CopyOp,
  inputs: readonly Float32Tensor[],
  attrs: CopyAttrs,
  into?: Float32Array,
): { data: Float32Array; dims: number[] } {
  const dims = copyDims(
    op,
    attrs,
    inputs.map((t) => t.dims),
  );
  const n = sizeOf(dims);
  const out = into?.length === n ? into : new Float32Array(n);
  if (op === 'Resize') upsample(inputs[0]!, attrs.scales!, out);
  else concat(concatAxis(attrs.axis ?? 0, dims.length), inputs, out);
  return { data: out, dims };
}
