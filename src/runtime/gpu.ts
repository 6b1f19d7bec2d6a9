/**
 * What WebGPU adapter this browser has: a real one, a software fallback (SwiftShader: correct but
 * 60-100x slower than WASM), or none. The page offers WebGPU only with this said plainly, never
 * silently on a fallback adapter.
 */
export interface GpuAdapterInfo {
  readonly available: boolean;
  readonly fallback: boolean;
  readonly description: string;
}

interface AdapterLike {
  readonly isFallbackAdapter?: boolean;
  readonly info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
}

export async function probeWebGpu(): Promise<GpuAdapterInfo> {
  const gpu = (
    globalThis.navigator as (Navigator & { gpu?: { requestAdapter(): Promise<AdapterLike | null> } }) | undefined
  )?.gpu;
  if (!gpu) return { available: false, fallback: false, description: 'this browser has no WebGPU' };
  let adapter: AdapterLike | null = null;
  try {
    adapter = await gpu.requestAdapter();
  } catch {
    adapter = null;
  }
  if (!adapter) return { available: false, fallback: false, description: 'no WebGPU adapter' };
  const info = adapter.info ?? {};
  const fallback =
    info.isFallbackAdapter ??
    adapter.isFallbackAdapter ??
    /swiftshader/i.test(`${info.architecture} ${info.description}`);
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return { available: true, fallback, description: name };
}
