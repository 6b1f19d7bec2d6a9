/**
 * A sample's recomputed tensors (elementwise.ts's ops, in step order) computed in the WebAssembly SIMD
 * kernel (elementwiseKernel.wat, assembled at build time by scripts/build-wasm.mjs): the tensors the
 * steps read are copied into the kernel's memory once, every step writes its tensor there, and the
 * results are views of that memory, valid until the next call. Bit for bit elementwise.ts's results
 * (tested); four float32 lanes a step instead of one element a JavaScript iteration. Broadcasts other
 * than a scalar or a run per leading index (a per-channel scale) run elementwise.ts's loop into the
 * kernel's memory. Where WASM SIMD is missing, `deriveTensors` runs elementwise.ts alone.
 */
import { WASM_BASE64 } from './elementwiseKernel.wasm';
import { applyCopy } from './copySteps';
import {
  applyElementwise,
  isCopyStep,
  sizeOf,
  stepShapes,
  trailingRun,
  type Float32Tensor,
  type TensorStep,
} from './elementwise';
import { QuantscopeError } from './errors';
import { releaseHistogramKernel } from './histogramKernel';
import { KERNEL_SCRATCH_BYTES, MAX_KERNEL_BYTES, releaseKernelMemory, sharedMemoryKernel } from './kernelMemory';
import { layoutSteps, type StepLayout, type StepTensorKey } from './stepLayout';
import { lazyKernel, type KernelKind } from './wasmKernel';

interface KernelExports {
  /** The memory it shares with the histogram kernel (kernelMemory.ts). */
  readonly memory: WebAssembly.Memory;
  same(op: number, a: number, b: number, out: number, n: number): void;
  scalar(op: number, a: number, v: number, out: number, n: number, swapped: number): void;
  runs(op: number, a: number, b: number, out: number, n: number, run: number, swapped: number): void;
  clip(x: number, out: number, n: number, lo: number, hi: number): void;
  hardSigmoid(x: number, out: number, n: number, alpha: number, beta: number): void;
}

const kernels = lazyKernel(() => sharedMemoryKernel<KernelExports>(WASM_BASE64));

/** Which loop runs here: the WASM SIMD kernel, or JavaScript where it cannot load. */
export function elementwiseKernelKind(): KernelKind {
  return kernels.kind();
}

/** Tests and the bench compare both: 'js' turns the kernel off, null restores the default. */
export function forceElementwiseKernel(kind: KernelKind | null): void {
  kernels.force(kind);
}

/**
 * Give the kernel's memory back (it grows to a whole sample's recomputed tensors, and a WebAssembly
 * memory never shrinks): calibration calls this when it ends, in the thread that folded. The memory
 * is the histogram kernel's too: both are dropped with it, and load again on next use.
 */
export function releaseElementwiseKernel(): void {
  kernels.release();
  releaseHistogramKernel();
  releaseKernelMemory();
}

const OP_CODE = { Add: 0, Sub: 1, Mul: 2, Div: 3 } as const;

/** Takes a tensor as soon as it is complete: the view is only valid during the call. */
export type TensorVisitor = (name: string, tensor: Float32Tensor) => void;

/**
 * Every step's tensor, from the named tensors in `given` (a copy step, copySteps.ts, runs its
 * JavaScript copy, into the kernel's memory where the kernel lays the tensors out). With the kernel the results are views of its
 * memory, overwritten by the next call: the caller is done with them first. They include the named
 * tensors of `given` that the steps read, as the kernel's copies (the same values, and where the
 * histogram kernel bins them in place: kernelMemory.ts); `given` itself is left as it is.
 * Without it, each step writes into `reuse`'s array for it when the size matches (memory already
 * touched: writing to fresh memory costs about twice as much) and records the new one there.
 */
export function deriveTensors(
  steps: readonly TensorStep[],
  given: Readonly<Record<string, Float32Tensor>>,
  reuse?: Map<string, Float32Array>,
): Record<string, Float32Tensor> {
  const out: Record<string, Float32Tensor> = {};
  runSteps(steps, given, reuse, (name, t) => (out[name] = t), false);
  return out;
}

/**
 * deriveTensors for a caller that takes each tensor as soon as it is made (the fold bins it while it is
 * still in cache): `visit` gets each step's tensor right after its step and, with the kernel, each named
 * tensor of `given` the steps read as the kernel's copy right after it is copied in. The kernel's memory
 * is laid out by liveness (stepLayout.ts): a tensor's region serves a later one once no step reads it,
 * so each view is only valid during its `visit` call. Every step's tensor is visited once; a `given`
 * tensor is visited at most once (never without the kernel).
 */
export function visitDerivedTensors(
  steps: readonly TensorStep[],
  given: Readonly<Record<string, Float32Tensor>>,
  visit: TensorVisitor,
  reuse?: Map<string, Float32Array>,
): void {
  runSteps(steps, given, reuse, visit, true);
}

/** The bytes of kernel memory the steps take above its scratch (laid out by liveness, as the fold runs them). */
export function derivedKernelBytes(
  steps: readonly TensorStep[],
  dimsOf: (name: string) => readonly number[] | undefined,
): number {
  return laidOut(steps, dimsOf, (name) => sizeOf(dimsOf(name)!), 0, true).layout.end;
}

/**
 * Each step's output shape (stepShapes) and the steps' layout from `base` up (stepLayout.ts); `lengthOf`
 * gives a named input's element count.
 */
function laidOut(
  steps: readonly TensorStep[],
  dimsOf: (name: string) => readonly number[] | undefined,
  lengthOf: (name: string) => number,
  base: number,
  byLiveness: boolean,
): { shapes: Map<string, readonly number[]>; layout: StepLayout } {
  const shapes = stepShapes(steps, dimsOf);
  const length = (k: StepTensorKey) => (typeof k === 'string' ? lengthOf(k) : k.data.length);
  return { shapes, layout: layoutSteps(steps, (name) => shapes.get(name)!, length, base, byLiveness) };
}

function runSteps(
  steps: readonly TensorStep[],
  given: Readonly<Record<string, Float32Tensor>>,
  reuse: Map<string, Float32Array> | undefined,
  visit: TensorVisitor,
  byLiveness: boolean,
): void {
  const k = kernels.active();
  const made: Record<string, Float32Tensor> = {};
  const tensor = (i: string | Float32Tensor, step: TensorStep): Float32Tensor => {
    if (typeof i !== 'string') return i;
    const t = made[i] ?? given[i];
    if (!t)
      throw new QuantscopeError(
        'RUNTIME',
        `recomputing "${step.output}": its input "${i}" was neither fetched nor made`,
      );
    return t;
  };
  const js = () => {
    for (const s of steps) {
      const inputs = (s.inputs as readonly (string | Float32Tensor)[]).map((i) => tensor(i, s));
      const r = isCopyStep(s)
        ? applyCopy(s.op, inputs, s.attrs, reuse?.get(s.output))
        : applyElementwise(s.op, inputs, s.attrs, reuse?.get(s.output));
      reuse?.set(s.output, r.data);
      made[s.output] = r;
      visit(s.output, r);
    }
  };
  if (!k) return js();
  // Lay the memory out first (inputs copied in before their first reader, each step's output), grow it
  // once, then compute: a grow would detach the views taken before it.
  const { shapes, layout } = laidOut(
    steps,
    (name) => given[name]?.dims,
    (name) => given[name]!.data.length,
    KERNEL_SCRATCH_BYTES,
    byLiveness,
  );
  if (layout.end > MAX_KERNEL_BYTES) return js();
  const memory = k.memory;
  if (memory.buffer.byteLength < layout.end) {
    // A grow the browser or Node cannot back (a RangeError) leaves the memory as it was: the JavaScript
    // loops then write into arrays of their own, as past MAX_KERNEL_BYTES. (No `given` tensor is a view of
    // this memory: the fold hands over onnxruntime's arrays, so a grow detaches nothing the copies read.)
    try {
      memory.grow(Math.ceil((layout.end - memory.buffer.byteLength) / 65536));
    } catch {
      return js();
    }
  }
  const at = layout.offsets;
  const view = (offset: number, n: number) => new Float32Array(memory.buffer, offset, n);
  const inKernel = (i: string | Float32Tensor): Float32Tensor & { offset: number } => {
    const offset = at.get(i)!;
    const dims = typeof i === 'string' ? (shapes.get(i) ?? given[i]!.dims) : i.dims;
    return { data: view(offset, sizeOf(dims)), dims, offset };
  };
  steps.forEach((s, i) => {
    for (const key of layout.copiedBefore[i]!) {
      const t = typeof key === 'string' ? given[key]! : key;
      const copy = view(at.get(key)!, t.data.length);
      copy.set(t.data);
      if (typeof key === 'string') visit(key, { data: copy, dims: t.dims });
    }
    const dims = shapes.get(s.output)!;
    const n = sizeOf(dims);
    const o = at.get(s.output)!;
    if (isCopyStep(s)) applyCopy(s.op, s.inputs.map(inKernel), s.attrs, view(o, n));
    else computeElementwise(k, s, s.inputs.map(inKernel), dims, o, view(o, n));
    visit(s.output, { data: view(o, n), dims });
  });
}

/** One elementwise step in the kernel, its inputs and output at their places in its memory. */
function computeElementwise(
  k: KernelExports,
  s: TensorStep,
  [a, b]: (Float32Tensor & { offset: number })[],
  dims: readonly number[],
  o: number,
  out: Float32Array,
): void {
  const n = out.length;
  if (s.op === 'Relu') k.clip(a!.offset, o, n, 0, Infinity);
  else if (s.op === 'Clip') k.clip(a!.offset, o, n, s.attrs.min ?? -Infinity, s.attrs.max ?? Infinity);
  else if (s.op === 'HardSigmoid') k.hardSigmoid(a!.offset, o, n, s.attrs.alpha ?? 0.2, s.attrs.beta ?? 0.5);
  else if (s.op === 'Add' || s.op === 'Sub' || s.op === 'Mul' || s.op === 'Div') {
    const op = OP_CODE[s.op];
    const na = a!.data.length;
    const nb = b!.data.length;
    if (na === n && nb === n) k.same(op, a!.offset, b!.offset, o, n);
    else if (na === n && nb === 1) k.scalar(op, a!.offset, b!.data[0]!, o, n, 0);
    else if (nb === n && na === 1) k.scalar(op, b!.offset, a!.data[0]!, o, n, 1);
    else {
      const runB = na === n ? trailingRun(b!.dims, dims) : 0;
      const runA = nb === n ? trailingRun(a!.dims, dims) : 0;
      if (runB) k.runs(op, a!.offset, b!.offset, o, n, runB, 0);
      else if (runA) k.runs(op, b!.offset, a!.offset, o, n, runA, 1);
      else applyElementwise(s.op, [a!, b!], s.attrs, out); // other broadcasts: the JS loop
    }
  }
}
