/**
 * The elementwise ops calibration recomputes instead of fetching (runtime/calibrate.ts, with the plan
 * from onnx/derivedTensors.ts), in float32 exactly as onnxruntime's CPU kernels compute them, so that a
 * recomputed tensor has the bits onnxruntime would have returned:
 *  - Add, Sub, Mul, Div with numpy broadcasting (ONNX Broadcasting.md): one IEEE float32 operation an
 *    element. The float64 result of two float32 operands rounded to float32 is the float32 result
 *    (float64 carries more than 2·24 + 2 bits, so the double rounding is exact for + - × ÷);
 *  - Relu, max(x, 0): x when x is not below 0 (Eigen's cwiseMax(0), which keeps -0 and NaN);
 *  - Clip(x, min, max): cwiseMax(min) then cwiseMin(max), each keeping x unless it is beyond the bound;
 *  - HardSigmoid: ((alpha·x + beta) min 1) max 0, alpha·x and + beta rounded to float32 apart
 *    (onnxruntime's activations.h: `((alpha * xm + beta).cwiseMin(1.0f)).cwiseMax(0.0f)`; no fused
 *    multiply-add: WebAssembly has none, and x86-64's baseline neither).
 * Pure functions over typed arrays; `dims` are row-major shapes.
 */
import { copyDims, type CopyStep } from './copySteps';
import { QuantscopeError } from './errors';
import { sizeOf, type Float32Tensor } from './float32Tensor';

export { sizeOf, type Float32Tensor };

export type ElementwiseOp = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Relu' | 'Clip' | 'HardSigmoid';

export const ELEMENTWISE_OPS: readonly ElementwiseOp[] = ['Add', 'Sub', 'Mul', 'Div', 'Relu', 'Clip', 'HardSigmoid'];

/** An op's attributes: Clip's bounds (absent: unbounded), HardSigmoid's alpha and beta (float32). */
export interface ElementwiseAttrs {
  readonly min?: number;
  readonly max?: number;
  readonly alpha?: number;
  readonly beta?: number;
}

/** One tensor made by an op over named tensors and constants (a recomputed calibration tensor). */
export interface ElementwiseStep {
  readonly output: string;
  readonly op: ElementwiseOp;
  readonly inputs: readonly (string | Float32Tensor)[];
  readonly attrs: ElementwiseAttrs;
}

/** A recomputed calibration tensor: an elementwise op's, or a copy's (copySteps.ts: Concat, nearest Resize). */
export type TensorStep = ElementwiseStep | CopyStep;

/** Whether a step is a copy (copySteps.ts) rather than an elementwise op. */
export const isCopyStep = (s: TensorStep): s is CopyStep => s.op === 'Concat' || s.op === 'Resize';

const f32 = Math.fround;

/** The broadcast shape of two shapes (numpy's rule: align right, a 1 stretches), or null when they do not broadcast. */
export function broadcastDims(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out[i] = x === 1 ? y : x;
  }
  return out;
}

/**
 * Each step's output shape, in step order, from the shapes of the named tensors it starts from
 * (`dimsOf`; a name neither given nor made by an earlier step is an error).
 */
export function stepShapes(
  steps: readonly TensorStep[],
  dimsOf: (name: string) => readonly number[] | undefined,
): Map<string, readonly number[]> {
  const shapes = new Map<string, readonly number[]>();
  for (const s of steps) {
    const inputDims = (s.inputs as readonly (string | Float32Tensor)[]).map((i) => {
      const d = typeof i === 'string' ? (shapes.get(i) ?? dimsOf(i)) : i.dims;
      if (!d)
        throw new QuantscopeError(
          'RUNTIME',
          `recomputing "${s.output}": its input "${i}" was neither fetched nor made`,
        );
      return d;
    });
    if (isCopyStep(s)) {
      shapes.set(s.output, copyDims(s.op, s.attrs, inputDims));
      continue;
    }
    let dims: readonly number[] = [];
    for (const d of inputDims) {
      const b = broadcastDims(dims, d);
      if (!b) throw new QuantscopeError('BAD_TENSOR', `${s.op}: shapes [${dims}] and [${d}] do not broadcast`);
      dims = b;
    }
    shapes.set(s.output, dims);
  }
  return shapes;
}

/** For each output element, the index of the element of an operand of shape `dims` it reads (broadcast to `out`). */
function sourceIndex(dims: readonly number[], out: readonly number[]): Int32Array {
  const n = sizeOf(out);
  const idx = new Int32Array(n);
  const rank = out.length;
  // the operand's stride along each output axis (0 where it is stretched)
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    const d = dims[dims.length - rank + i] ?? 1;
    strides[i] = d === 1 ? 0 : s;
    s *= d;
  }
  const at = new Array<number>(rank).fill(0);
  let src = 0;
  for (let k = 0; k < n; k++) {
    idx[k] = src;
    // odometer over the output's axes
    for (let i = rank - 1; i >= 0; i--) {
      at[i]!++;
      src += strides[i]!;
      if (at[i]! < out[i]!) break;
      src -= strides[i]! * at[i]!;
      at[i] = 0;
    }
  }
  return idx;
}

/**
 * When an operand of shape `dims` broadcast to `out` equals `out` on its leading axes and is 1 on all
 * the rest, the length of the runs over which its value stays the same (the trailing axes' product);
 * else 0.
 */
export function trailingRun(dims: readonly number[], out: readonly number[]): number {
  const rank = out.length;
  const d = (i: number) => dims[dims.length - rank + i] ?? 1;
  let i = rank;
  let run = 1;
  while (i > 0 && d(i - 1) === 1) run *= out[--i]!;
  for (let k = 0; k < i; k++) if (d(k) !== out[k]) return 0;
  return run;
}

function binary(op: ElementwiseOp, a: Float32Tensor, b: Float32Tensor, into?: Float32Array): Float32Tensor {
  const dims = broadcastDims(a.dims, b.dims);
  if (!dims) throw new QuantscopeError('BAD_TENSOR', `${op}: shapes [${a.dims}] and [${b.dims}] do not broadcast`);
  const n = sizeOf(dims);
  const out = into?.length === n ? into : new Float32Array(n);
  const x = a.data;
  const y = b.data;
  const apply = (k: number, u: number, v: number) => {
    out[k] = op === 'Add' ? u + v : op === 'Sub' ? u - v : op === 'Mul' ? u * v : u / v;
  };
  // Float32Array stores round to float32: out[k] = u op v is the float32 operation
  if (x.length === n && y.length === n) {
    if (op === 'Add') for (let k = 0; k < n; k++) out[k] = x[k]! + y[k]!;
    else if (op === 'Sub') for (let k = 0; k < n; k++) out[k] = x[k]! - y[k]!;
    else if (op === 'Mul') for (let k = 0; k < n; k++) out[k] = x[k]! * y[k]!;
    else for (let k = 0; k < n; k++) out[k] = x[k]! / y[k]!;
  } else if (y.length === 1 && x.length === n) {
    const v = y[0]!;
    if (op === 'Add') for (let k = 0; k < n; k++) out[k] = x[k]! + v;
    else if (op === 'Sub') for (let k = 0; k < n; k++) out[k] = x[k]! - v;
    else if (op === 'Mul') for (let k = 0; k < n; k++) out[k] = x[k]! * v;
    else for (let k = 0; k < n; k++) out[k] = x[k]! / v;
  } else if (x.length === 1 && y.length === n) {
    const u = x[0]!;
    if (op === 'Add') for (let k = 0; k < n; k++) out[k] = u + y[k]!;
    else if (op === 'Sub') for (let k = 0; k < n; k++) out[k] = u - y[k]!;
    else if (op === 'Mul') for (let k = 0; k < n; k++) out[k] = u * y[k]!;
    else for (let k = 0; k < n; k++) out[k] = u / y[k]!;
  } else {
    // one operand whole, the other constant over runs of `run` elements (a per-channel scale
    // [1, C, 1, 1] against [1, C, H, W]): no index a element
    const yRun = x.length === n ? trailingRun(b.dims, dims) : 0;
    const xRun = y.length === n ? trailingRun(a.dims, dims) : 0;
    if (yRun) {
      for (let k = 0, j = 0; k < n; j++) {
        const v = y[j]!;
        const end = k + yRun;
        if (op === 'Add') for (; k < end; k++) out[k] = x[k]! + v;
        else if (op === 'Sub') for (; k < end; k++) out[k] = x[k]! - v;
        else if (op === 'Mul') for (; k < end; k++) out[k] = x[k]! * v;
        else for (; k < end; k++) out[k] = x[k]! / v;
      }
    } else if (xRun) {
      for (let k = 0, j = 0; k < n; j++) {
        const u = x[j]!;
        const end = k + xRun;
        if (op === 'Add') for (; k < end; k++) out[k] = u + y[k]!;
        else if (op === 'Sub') for (; k < end; k++) out[k] = u - y[k]!;
        else if (op === 'Mul') for (; k < end; k++) out[k] = u * y[k]!;
        else for (; k < end; k++) out[k] = u / y[k]!;
      }
    } else {
      const ia = x.length === n ? null : sourceIndex(a.dims, dims);
      const ib = y.length === n ? null : sourceIndex(b.dims, dims);
      for (let k = 0; k < n; k++) apply(k, x[ia ? ia[k]! : k]!, y[ib ? ib[k]! : k]!);
    }
  }
  return { data: out, dims };
}

/**
 * One op over float32 tensors (Clip and HardSigmoid take their parameters from `attrs`), into `into`
 * when it has the result's length (a buffer reused sample after sample: writing to fresh memory costs
 * about twice as much as writing to memory already touched), else into a new array.
 */
export function applyElementwise(
  op: ElementwiseOp,
  inputs: readonly Float32Tensor[],
  attrs: ElementwiseAttrs = {},
  into?: Float32Array,
): Float32Tensor {
  if (op === 'Add' || op === 'Sub' || op === 'Mul' || op === 'Div') return binary(op, inputs[0]!, inputs[1]!, into);
  const { data: x, dims } = inputs[0]!;
  const out = into?.length === x.length ? into : new Float32Array(x.length);
  if (op === 'Relu') {
    for (let k = 0; k < x.length; k++) {
      const v = x[k]!;
      out[k] = v < 0 ? 0 : v;
    }
  } else if (op === 'Clip') {
    const lo = attrs.min ?? -Infinity;
    const hi = attrs.max ?? Infinity;
    for (let k = 0; k < x.length; k++) {
      let v = x[k]!;
      if (v < lo) v = lo;
      if (hi < v) v = hi;
      out[k] = v;
    }
  } else {
    const alpha = f32(attrs.alpha ?? 0.2);
    const beta = f32(attrs.beta ?? 0.5);
    for (let k = 0; k < x.length; k++) {
      let v = f32(f32(alpha * x[k]!) + beta);
      if (1 < v) v = 1;
      if (v < 0) v = 0;
      out[k] = v;
    }
  }
  return { data: out, dims };
}
