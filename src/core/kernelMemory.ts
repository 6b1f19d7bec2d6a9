/**
 * The one WebAssembly memory the histogram kernel (histogramKernel.ts) and the elementwise kernel
 * (elementwiseKernel.ts) share: both modules import it. Its first KERNEL_SCRATCH_BYTES are the
 * histogram kernel's (min/max, edges, counts, a chunk of copied data, the values near an edge); the
 * elementwise kernel lays a sample's recomputed tensors, and the fetched ones they read, out above
 * them. The histogram kernel then bins those tensors where they lie, instead of copying each one
 * into its own memory 64 KiB at a time (det: 221 of its 236 tensors, ~40 ms of a sample's ~250).
 */
import { instantiateSimdKernel } from './wasmKernel';

export const KERNEL_SCRATCH_BYTES = 14 * 65536;

let memory: WebAssembly.Memory | null = null;

/** The shared memory (created on first use, the scratch's size: nothing grows it but the elementwise kernel). */
export function kernelMemory(): WebAssembly.Memory {
  return (memory ??= new WebAssembly.Memory({ initial: KERNEL_SCRATCH_BYTES / 65536 }));
}

/**
 * Forget the memory (a WebAssembly memory never shrinks: dropping it is the only way to give it
 * back); the kernels that imported it must be released too, and load again with a fresh one.
 */
export function releaseKernelMemory(): void {
  memory = null;
}

/**
 * A kernel module that imports the shared memory (as env.memory) and exports it back, instantiated;
 * null where WebAssembly SIMD is missing, or where the module is not one that shares it (a .wasm.ts
 * built from an older .wat with a memory of its own: the JavaScript loops then run, never a kernel
 * writing outside its memory).
 */
export function sharedMemoryKernel<T extends { readonly memory: WebAssembly.Memory }>(base64: string): T | null {
  if (typeof WebAssembly === 'undefined') return null;
  const k = instantiateSimdKernel<T>(base64, { env: { memory: kernelMemory() } });
  return k && k.memory === kernelMemory() ? k : null;
}

/**
 * The most the shared memory grows to: past 1 GiB (a segmentation model's sample at 1024x1024, say) the
 * JavaScript loops write into arrays of their own instead, rather than grow one WebAssembly memory
 * towards its 4 GiB limit.
 */
export const MAX_KERNEL_BYTES = 2 ** 30;

/**
 * `byteLength` bytes of the shared memory above the histogram kernel's scratch, placed so that byte
 * `alignedAt` of them lies on a 16-byte boundary: for a caller that fills one array there and folds it
 * (the command line's `range` reads a .npy file into it, its payload at `alignedAt`), so that the
 * kernels read the values where they lie instead of copying them in 64 KiB at a time. The bytes are
 * the elementwise kernel's too: valid until its next layout, or the next call. Null past 1 GiB, or
 * where the memory cannot grow (the caller reads into an array of its own).
 */
export function kernelBytes(byteLength: number, alignedAt = 0): Uint8Array | null {
  const start = KERNEL_SCRATCH_BYTES + ((16 - (alignedAt % 16)) % 16);
  const end = start + byteLength;
  if (typeof WebAssembly === 'undefined' || end > MAX_KERNEL_BYTES) return null;
  const m = kernelMemory();
  if (m.buffer.byteLength < end) {
    try {
      m.grow(Math.ceil((end - m.buffer.byteLength) / 65536));
    } catch {
      return null; // a grow the engine cannot back leaves the memory as it was
    }
  }
  return new Uint8Array(m.buffer, start, byteLength);
}
