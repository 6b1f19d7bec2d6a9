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
import { KERNEL_SCRATCH_BYTES, releaseKernelMemory, sharedMemoryKernel } from './kernelMemory';
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

/**
 * The kernel's memory holds a sample's recomputed tensors and the ones they read: past 1 GiB (a
 * segmentation model at 1024x1024, say) the JavaScript loops write into arrays of their own instead,
 * rather than grow one WebAssembly memory towards its 4 GiB limit.
 */
const MAX_KERNEL_BYTES = 2 ** 30;

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
  const k = kernels.active();
  const out: Record<string, Float32Tensor> = {};
  const tensor = (i: string | Float32Tensor, step: TensorStep): Float32Tensor => {
    if (typeof i !== 'string') return i;
    const t = out[i] ?? given[i];
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
      out[s.output] = r;
    }
    return out;
  };
  if (!k) return js();
  // Lay the memory out first (inputs copied in once, each step's output), grow it once, then compute:
  // a grow would detach the views taken before it.
  const at = new Map<string | Float32Tensor, number>(); // byte offset of each tensor in the kernel's memory
  const shapes = stepShapes(steps, (name) => given[name]?.dims);
  let end = KERNEL_SCRATCH_BYTES; // the histogram kernel's scratch lies below
  const place = (key: string | Float32Tensor, n: number) => {
    at.set(key, end);
    end += ((n * 4 + 15) >> 4) << 4; // 16-byte aligned
  };
  for (const s of steps) {
    for (const i of s.inputs) {
      if (at.has(i) || (typeof i === 'string' && shapes.has(i))) continue; // placed, or a step's output
      place(i, tensor(i, s).data.length);
    }
    place(s.output, sizeOf(shapes.get(s.output)!));
  }
  if (end > MAX_KERNEL_BYTES) return js();
  const memory = k.memory;
  if (memory.buffer.byteLength < end) {
    // A grow the browser or Node cannot back (a RangeError) leaves the memory as it was: the JavaScript
    // loops then write into arrays of their own, as past MAX_KERNEL_BYTES. (No `given` tensor is a view of
    // this memory: the fold hands over onnxruntime's arrays, so a grow detaches nothing the copies read.)
    try {
      memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
    } catch {
      return js();
    }
  }
  const view = (offset: number, n: number) => new Float32Array(memory.buffer, offset, n);
  for (const [key, offset] of at) {
    if (typeof key === 'string' && shapes.has(key)) continue; // a step's output, written below
    const t = typeof key === 'string' ? given[key]! : key;
    const copy = view(offset, t.data.length);
    copy.set(t.data);
    if (typeof key === 'string') out[key] = { data: copy, dims: t.dims };
  }
  const inKernel = (i: string | Float32Tensor): Float32Tensor & { offset: number } => {
    const offset = at.get(i)!;
    const dims = typeof i === 'string' ? (shapes.get(i) ?? given[i]!.dims) : i.dims;
    return { data: view(offset, sizeOf(dims)), dims, offset };
  };
  for (const s of steps) {
    const dims = shapes.get(s.output)!;
    const n = sizeOf(dims);
    const o = at.get(s.output)!;
    if (isCopyStep(s)) {
      applyCopy(s.op, s.inputs.map(inKernel), s.attrs, view(o, n));
      out[s.output] = { data: view(o, n), dims };
      continue;
    }
    const [a, b] = s.inputs.map(inKernel);
    if (s.op === 'Relu') k.clip(a!.offset, o, n, 0, Infinity);
    else if (s.op === 'Clip') k.clip(a!.offset, o, n, s.attrs.min ?? -Infinity, s.attrs.max ?? Infinity);
    else if (s.op === 'HardSigmoid') k.hardSigmoid(a!.offset, o, n, s.attrs.alpha ?? 0.2, s.attrs.beta ?? 0.5);
    else {
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
        else applyElementwise(s.op, [a!, b!], s.attrs, view(o, n)); // other broadcasts: the JS loop
      }
    }
    out[s.output] = { data: view(o, n), dims };
  }
  return out;
}
