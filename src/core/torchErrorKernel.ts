/**
 * The WebAssembly SIMD kernel for PyTorch HistogramObserver's quantization error (torchErrorKernel.wat,
 * assembled at build time by scripts/build-wasm.mjs): the same total as torchQuantizationError's
 * JavaScript loop (torchHistogramError.ts), bit for bit, four bins at a time. Loaded once, synchronously
 * (about 1.5 KB, within the browsers' 4 KB limit for synchronous compiles on a page's thread), through
 * wasmKernel.ts's shared loader; where WebAssembly SIMD is missing, `total` answers null and the caller
 * runs the JavaScript loop.
 *
 * The kernel imports the float32 floor division it cannot do itself (floorDiv32 falls back to an fmod
 * for quotients near an integer): the caller hands it in, so this module does not import the loop's.
 */
import { WASM_BASE64 } from './torchErrorKernel.wasm';
import { instantiateSimdKernel, lazyKernel, type KernelKind } from './wasmKernel';

/** torchQuantizationError's float32 terms of one (startBin, endBin) candidate. */
export interface TorchErrorTerms {
  readonly startBin: number;
  readonly bw: number;
  readonly dw: number;
  readonly halfDw: number;
  /** cubeDiff(-dw/2, dw/2): a whole destination bin's norm over density. */
  readonly middle: number;
  readonly halfCube: number;
  readonly negHalfCube: number;
  /** dstBins - 1 */
  readonly last: number;
  /** 1 / dw, in float64 */
  readonly inv: number;
}

/** floorDiv32(a, b, inv) of torchHistogramError.ts. */
export type FloorDiv32 = (a: number, b: number, inv: number) => number;

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  total(
    counts: number,
    groups: number,
    startBin: number,
    bw: number,
    dw: number,
    halfDw: number,
    middle: number,
    halfCube: number,
    negHalfCube: number,
    last: number,
    inv: number,
    inv32: number,
    approx: number,
  ): number;
}

export interface TorchErrorKernel {
  /**
   * The float64 sum of the bins' float32 norms, in bin order (the caller rounds it to float32); null
   * without the kernel. The counts are copied into the kernel's memory once per array: the L2 search
   * calls this many times on the same, unchanging counts (a histogram's counts are never written after
   * it is made).
   */
  total(counts: Float32Array, terms: TorchErrorTerms): number | null;
  kind(): KernelKind;
  /** Tests and the bench compare both loops: 'js' turns the kernel off, null restores the default. */
  force(kind: KernelKind | null): void;
}

/** The kernel, with floorDiv32 as its fallback floor (loaded on first use). */
export function torchErrorKernel(floorDiv: FloorDiv32): TorchErrorKernel {
  const kernels = lazyKernel(() => instantiateSimdKernel<KernelExports>(WASM_BASE64, { m: { floorDiv } }));
  let countsOf: Float32Array | null = null;
  let buffer: ArrayBuffer | null = null;
  return {
    total(counts, t) {
      const k = kernels.active();
      if (!k) return null;
      const groups = Math.ceil(counts.length / 4);
      const needed = groups * 16;
      const memory = k.memory;
      if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / 65536));
      if (countsOf !== counts || buffer !== memory.buffer) {
        const view = new Float32Array(memory.buffer, 0, groups * 4);
        view.set(counts);
        view.fill(0, counts.length); // the last group's padding: empty bins
        countsOf = counts;
        buffer = memory.buffer;
      }
      // the float32 quotients' error bound holds for a normal dw with a normal reciprocal, within 2048
      // destination bins (torchErrorKernel.wat); else every floor takes floorDiv32's own steps
      const approx = t.dw >= 2 ** -126 && t.dw <= 2 ** 126 && t.last + 2 <= 2048 ? 1 : 0;
      const inv32 = Math.fround(1 / t.dw);
      const { startBin, bw, dw, halfDw, middle, halfCube, negHalfCube, last, inv } = t;
      return k.total(0, groups, startBin, bw, dw, halfDw, middle, halfCube, negHalfCube, last, inv, inv32, approx);
    },
    kind: () => kernels.kind(),
    force: (kind) => kernels.force(kind),
  };
}
