/**
 * What every WebAssembly SIMD kernel of core shares (histogramKernel.ts, methods/entropyBlocksKernel.ts,
 * torchErrorKernel.ts): instantiating its module from the base64 that scripts/build-wasm.mjs writes,
 * synchronously (each is under the browsers' 4 KB limit for synchronous compiles on a page's thread),
 * null where WebAssembly or its SIMD is missing; and loading it once, on first use, with a switch that
 * tests and the bench use to run the JavaScript loop instead.
 */
export type KernelKind = 'wasm-simd' | 'js';

export function instantiateSimdKernel<T>(base64: string, imports: WebAssembly.Imports = {}): T | null {
  try {
    if (typeof WebAssembly === 'undefined') return null;
    const bin = atob(base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    if (!WebAssembly.validate(bytes)) return null; // no SIMD in this engine
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports as unknown as T;
  } catch {
    return null;
  }
}

export interface LazyKernel<T> {
  /** The kernel, loaded on first use; null where it cannot load or is switched off. */
  active(): T | null;
  kind(): KernelKind;
  /** 'js' turns the kernel off, null restores the default. */
  force(kind: KernelKind | null): void;
  /** Drop the instance (and its memory, which a WebAssembly memory cannot give back otherwise); the next use loads it again. */
  release(): void;
}

export function lazyKernel<T>(load: () => T | null): LazyKernel<T> {
  let kernel: T | null | undefined;
  let forced: KernelKind | null = null;
  const active = (): T | null => {
    if (forced === 'js') return null;
    if (kernel === undefined) kernel = load();
    return kernel;
  };
  return {
    active,
    kind: () => (active() ? 'wasm-simd' : 'js'),
    force: (kind) => {
      forced = kind;
    },
    release: () => {
      kernel = undefined;
    },
  };
}
