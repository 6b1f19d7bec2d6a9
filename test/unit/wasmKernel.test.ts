/**
 * wasmKernel.ts compiles every kernel synchronously, which Chromium allows on a page's thread only for
 * modules of at most 4 KB (a larger one throws there, and the page would run the JavaScript loop
 * without a word): each kernel's module, as scripts/build-wasm.mjs writes it, stays within it.
 */
import { describe, expect, it } from 'vitest';

const LIMIT = 4096;

const modules = import.meta.glob<string>('../../src/core/**/*.wasm.ts', { eager: true, import: 'WASM_BASE64' });

describe('the WASM SIMD kernels', () => {
  it('are built, one for each .wat source', () => {
    const sources = Object.keys(import.meta.glob('../../src/core/**/*.wat')).map((p) =>
      p.replace(/\.wat$/, '.wasm.ts'),
    );
    expect(sources.length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(modules).sort()).toEqual(sources.sort());
  });

  it.each(Object.entries(modules))('%s is a valid module within the 4 KB synchronous compile limit', (_, base64) => {
    const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
    expect(WebAssembly.validate(bytes)).toBe(true); // a module (SIMD included), not an empty string
    expect(bytes.length).toBeLessThanOrEqual(LIMIT);
  });
});
