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
