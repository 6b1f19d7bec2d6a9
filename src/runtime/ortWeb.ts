/**
 * onnxruntime-web for the browser: only the /wasm or /webgpu entries are imported, never the
 * default one (its JSEP WebGPU backend returns garbage from DequantizeLinear on 8-bit activations,
 * microsoft/onnxruntime#32578). The .wasm files are served by the app from /ort/ (no CDN).
 */
import type { Backend, SessionInfo } from './protocol';
import type { OrtModule } from './ort';

type WebOrt = OrtModule & { env: { wasm: { wasmPaths?: string | object; numThreads?: number } } };

const loaded = new Map<Backend, Promise<WebOrt>>();

/** Threads: at most the core count (4 threads on 2 cores ran 5x slower than 2), at most 4. */
export function threadCount(hardwareConcurrency: number): number {
  return Math.max(1, Math.min(4, hardwareConcurrency || 1));
}

export function loadOrt(backend: Backend, baseUrl: string): Promise<WebOrt> {
  let p = loaded.get(backend);
  if (!p) {
    // WebNN lives in the full bundle (used for it alone: see above for why WebGPU does not).
    const mod =
      backend === 'webgpu'
        ? import('onnxruntime-web/webgpu')
        : backend === 'webnn'
          ? import('onnxruntime-web')
          : import('onnxruntime-web/wasm');
    p = mod.then((m) => {
      const ort = m as unknown as WebOrt;
      ort.env.wasm.wasmPaths = `${baseUrl}ort/`;
      ort.env.wasm.numThreads = threadCount(globalThis.navigator?.hardwareConcurrency ?? 1);
      return ort;
    });
    loaded.set(backend, p);
  }
  return p;
}

let streaming: Promise<WebOrt> | null = null;

/**
 * onnxruntime-web's JSPI build, for sessions whose weights are in external data files given as Blobs:
 * it reads each external tensor from its Blob slice straight into the wasm heap as the session is
 * created (the ort-wasm-simd-threaded.jspi.mjs glue streams `blob.slice(offset, offset + length)`),
 * where the other builds first read every data file whole into a JavaScript buffer (onnxruntime-web
 * lib/wasm/wasm-utils-load-file.ts `loadFile`: `new Uint8Array(await blob.arrayBuffer())`), holding the
 * weights twice while the session is made. Null where the browser lacks JSPI (WebAssembly.Suspending):
 * the caller uses loadOrt's build then. Only the WASM (CPU) execution provider is used from it.
 */
export function loadOrtStreamingWeights(baseUrl: string): Promise<WebOrt> | null {
  if (typeof (WebAssembly as unknown as { Suspending?: unknown }).Suspending !== 'function') return null;
  streaming ??= import('onnxruntime-web/jspi').then((m) => {
    const ort = m as unknown as WebOrt;
    ort.env.wasm.wasmPaths = `${baseUrl}ort/`;
    ort.env.wasm.numThreads = threadCount(globalThis.navigator?.hardwareConcurrency ?? 1);
    return ort;
  });
  return streaming;
}

export function sessionInfo(ort: WebOrt, backend: Backend): SessionInfo {
  const isolated = globalThis.crossOriginIsolated === true;
  const asked = ort.env.wasm.numThreads ?? 1;
  return {
    backend,
    // Without cross-origin isolation onnxruntime-web falls back to one thread.
    numThreads: isolated ? asked : 1,
    crossOriginIsolated: isolated,
    hardwareConcurrency: globalThis.navigator?.hardwareConcurrency ?? 1,
  };
}
