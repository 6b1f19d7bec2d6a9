/**
 * The WebAssembly SIMD kernel for the histogram's one-pass fold (histogramKernel.wat, assembled at
 * build time by scripts/build-wasm.mjs): min/max and binning eight values at a time, the same bins as
 * histogramBinning.ts's binLoopFixed (its position estimate is float32, with a window widened to match). Loaded once, synchronously (the module is ~2 KB, under
 * the browsers' 4 KB limit for synchronous compiles on a page's thread), wherever core runs: the
 * calibration worker, the page, Node. Where WebAssembly SIMD is missing, `binFixedWasm` answers
 * false and the caller runs the JavaScript loop.
 */
import { WASM_BASE64 } from './histogramKernel.wasm';
import { KERNEL_SCRATCH_BYTES, sharedMemoryKernel } from './kernelMemory';
import { lazyKernel, type KernelKind } from './wasmKernel';

interface KernelExports {
  /** The shared memory it imported (kernelMemory.ts): this instance's, even after a release. */
  readonly memory: WebAssembly.Memory;
  fold(
    data: number,
    len: number,
    lanes: number,
    edges: number,
    last: number,
    lo: number,
    fixedScale: number,
    shift: number,
    mask: number,
    window: number,
    zeroBin: number,
    fix: number,
    absMask: number,
  ): void;
  minmax(data: number, len: number): void;
}

export type HistogramKernelKind = KernelKind;

const kernels = lazyKernel(() => sharedMemoryKernel<KernelExports>(WASM_BASE64));
const active = (): KernelExports | null => kernels.active();

/** Which loop runs here: the WASM SIMD kernel, or JavaScript where it cannot load. */
export function histogramKernelKind(): HistogramKernelKind {
  return kernels.kind();
}

/** Tests and the bench compare both loops: 'js' turns the kernel off, null restores the default. */
export function forceHistogramKernel(kind: HistogramKernelKind | null): void {
  kernels.force(kind);
}

/**
 * Drop the instance (with the shared memory it imported: elementwiseKernel.ts, releaseElementwiseKernel)
 * and the views of that memory kept below: a view holds the memory's buffer, which would keep the
 * whole grown memory alive until the next fold.
 */
export function releaseHistogramKernel(): void {
  kernels.release();
  views = NO_VIEWS;
  edgesWritten = null;
}

/**
 * The kernel's scratch, the shared memory's first KERNEL_SCRATCH_BYTES (kernelMemory.ts): bytes 0..12
 * hold min, max and min |x|; the edges, lanes and a chunk of data follow, each 16-byte aligned. A
 * batch that lies in the shared memory (a tensor the elementwise kernel recomputed, or copied in for
 * its steps) is binned where it lies; any other is copied in and binned a chunk at a time: the chunk
 * stays in cache between the copy and the kernel's read (one pass over memory, not two), and the
 * scratch does not grow with the largest activation.
 */
const EDGES_AT = 16;
const CHUNK = 8192; // float32 values: 32 KiB (the scratch holds 2^15 bins' edges and counts beside it)
let edgesWritten: Float64Array | null = null;
const NO_VIEWS = { buffer: null as ArrayBuffer | null, f32: new Float32Array(0), u32: new Uint32Array(0) };
let views = NO_VIEWS;

function align16(n: number): number {
  return (n + 15) & ~15;
}

/**
 * Views of the shared memory (the elementwise kernel's growing it detaches the old ones). Never
 * grown here: the scratch is there from the start, and tensors above it may be in use.
 */
function viewsOf(k: KernelExports): typeof views {
  const memory = k.memory;
  if (views.buffer !== memory.buffer) {
    views = { buffer: memory.buffer, f32: new Float32Array(memory.buffer), u32: new Uint32Array(memory.buffer) };
    edgesWritten = null;
  }
  return views;
}

/** Where the kernel reads `data` from: its place in the shared memory, or -1 (copied in, a chunk at a time). */
function placeOf(data: Float32Array, buffer: ArrayBuffer | null): number {
  return data.buffer === buffer && data.byteOffset >= KERNEL_SCRATCH_BYTES ? data.byteOffset : -1;
}

/** Whether the kernel reads `data` where it lies (in the shared memory, above the scratch) rather than copy it. */
export function binsInPlace(data: Float32Array): boolean {
  const k = active();
  return k !== null && placeOf(data, viewsOf(k).buffer) >= 0;
}

/**
 * A batch's min, max and min |x| (float32 values; NaN when it holds NaN, ±Infinity as min/max when it
 * holds them), eight values at a time in the kernel, a chunk at a time as binFixedWasm; null without
 * the kernel.
 */
export function minMaxWasm(data: Float32Array): { min: number; max: number; minAbs: number } | null {
  const k = active();
  if (!k) return null;
  const { buffer, f32 } = viewsOf(k);
  const place = placeOf(data, buffer);
  f32[0] = Infinity;
  f32[1] = -Infinity;
  f32[2] = Infinity;
  if (place >= 0) k.minmax(place, data.length);
  else {
    edgesWritten = null; // the data goes where the edges were
    for (let at = 0; at < data.length; at += CHUNK) {
      const chunk = data.subarray(at, Math.min(data.length, at + CHUNK));
      f32.set(chunk, EDGES_AT >> 2);
      k.minmax(EDGES_AT, chunk.length);
    }
  }
  return { min: f32[0]!, max: f32[1]!, minAbs: f32[2]! };
}

/**
 * Bin `data` into `lanes` (4 interleaved copies of n bins, returned as a view of the kernel's memory,
 * valid until the next call) and find its min/max (float32; NaN when it holds NaN). Arguments as
 * histogramBinning.ts's binLoopFixed: the float64 edges, the fixed-point scale (rounded to float32 as it
 * enters the kernel) and the window for float32 positions, and `zeroBin`, the bin of ±0. Null when the kernel is not available (the caller runs the JS loop).
 * With `abs`, the same for |x| (min/max of |x| too), onnxruntime's |x| histogram.
 * Once a chunk's extremes leave [lo, hi] (or it held NaN) the bins are void, and the rest of the
 * batch is only scanned for its min/max (a sample that grows a streaming histogram is binned again
 * on the grown range: binning all of it here first would be wasted).
 */
export function binFixedWasm(
  data: Float32Array,
  lo: number,
  hi: number,
  fixedScale: number,
  shift: number,
  window: number,
  edges: Float64Array,
  zeroBin: number,
  abs = false,
): { min: number; max: number; lanes: Uint32Array } | null {
  const k = active();
  if (!k) return null;
  const n = edges.length - 1;
  const lanesAt = align16(EDGES_AT + edges.byteLength);
  const dataAt = align16(lanesAt + 16 * n);
  // the loop's constants (160 bytes), then the quads noted near an edge: at most every quad of a chunk, 32 bytes each
  const fixAt = dataAt + CHUNK * 4;
  if (fixAt + 160 + CHUNK * 8 > KERNEL_SCRATCH_BYTES) return null; // past 2^15 bins or so: the JS loop
  const { buffer, f32, u32 } = viewsOf(k);
  const place = placeOf(data, buffer);
  if (edgesWritten !== edges) {
    new Float64Array(buffer!, EDGES_AT, edges.length).set(edges);
    edgesWritten = edges;
  }
  const lanes = u32.subarray(lanesAt >> 2, (lanesAt >> 2) + 4 * n);
  lanes.fill(0);
  f32[0] = Infinity;
  f32[1] = -Infinity;
  const mask = (1 << shift) - 1;
  const absMask = abs ? 0x7fffffff : -1;
  let inside = true;
  for (let at = 0; at < data.length; at += CHUNK) {
    const length = Math.min(CHUNK, data.length - at);
    let from = place + at * 4;
    if (place < 0) {
      f32.set(data.subarray(at, at + length), dataAt >> 2);
      from = dataAt;
    }
    if (inside) {
      k.fold(from, length, lanesAt, EDGES_AT, n - 1, lo, fixedScale, shift, mask, window, zeroBin, fixAt, absMask);
      inside = f32[0]! >= lo && f32[1]! <= hi;
    } else if (abs)
      break; // the |x| fold's caller only needs to know the batch left the range
    else k.minmax(from, length); // bytes 0..8 as fold keeps them; min |x| (bytes 8..12) unused
  }
  return { min: f32[0]!, max: f32[1]!, lanes };
}
