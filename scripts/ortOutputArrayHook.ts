/**
 * The Vite plugin that lets a calibration lend onnxruntime-web its output arrays
 * (src/runtime/outputArrayPool.ts says why). onnxruntime-web's run copies each CPU output out of the wasm
 * heap into `new <TypedArray>(size)`; in each of its minified ES builds that the app imports
 * (ort.wasm.min.mjs, ort.webgpu.min.mjs, ort.jspi.min.mjs, ort.min.mjs) this rewrites the one expression
 * to ask the hook first:
 *
 *   let U=un(P),L=new U(j);new Uint8Array(L.buffer,L.byteOffset,L.byteLength).set(s.HEAPU8.subarray(
 *   let U=un(P),L=(globalThis.__quantscopeOutputArray?.(U,j)??new U(j));new Uint8Array(L.buffer,...
 *
 * A build of onnxruntime-web whose output copy no longer reads so fails the build, naming the file,
 * rather than losing the recycling unnoticed: the output copy is found by the output location next to
 * it ("ml-tensor-cpu-output"), and must match exactly once.
 */
import type { Plugin } from 'vite';
import { OUTPUT_ARRAY_HOOK } from '../src/runtime/outputArrayPool';

/** The output copy, minified: the constructor, the array and its length, then the copy from HEAPU8. */
const OUTPUT_COPY =
  /let (\w+)=(\w+)\((\w+)\),(\w+)=new \1\((\w+)\);new Uint8Array\(\4\.buffer,\4\.byteOffset,\4\.byteLength\)\.set\((\w+)\.HEAPU8\.subarray\(/g;

/** Marks the function that copies outputs out (a WebNN output location named beside the copy). */
const OUTPUT_COPY_MARK = '"ml-tensor-cpu-output"';

/**
 * The code with its output copy asking the hook first; null for code without onnxruntime-web's output
 * copy. Throws where the copy is there but does not read as expected.
 */
export function hookOutputArrays(code: string, file: string): string | null {
  if (!code.includes(OUTPUT_COPY_MARK)) return null;
  let count = 0;
  const out = code.replace(
    OUTPUT_COPY,
    (_all, ctor: string, typeOf: string, type: string, arr: string, size: string, wasm: string) => {
      count++;
      return (
        `let ${ctor}=${typeOf}(${type}),${arr}=(globalThis.${OUTPUT_ARRAY_HOOK}?.(${ctor},${size})??new ${ctor}(${size}));` +
        `new Uint8Array(${arr}.buffer,${arr}.byteOffset,${arr}.byteLength).set(${wasm}.HEAPU8.subarray(`
      );
    },
  );
  if (count !== 1)
    throw new Error(
      `${file}: onnxruntime-web's output copy ${count ? `reads ${count} times` : 'no longer reads'} as scripts/ortOutputArrayHook.ts expects (one minified \`new TypedArray(size)\` then a copy from HEAPU8): update its pattern for this onnxruntime-web`,
    );
  return out;
}

/** onnxruntime-web's minified ES builds, where the app's imports resolve (vite.config.ts). */
const ORT_BUILD = /[\\/]onnxruntime-web[\\/]dist[\\/]ort(\.\w+)?\.min\.mjs(\?.*)?$/;

export function ortOutputArrayHook(): Plugin {
  return {
    name: 'quantscope-ort-output-arrays',
    transform(code, id) {
      if (!ORT_BUILD.test(id)) return null;
      const out = hookOutputArrays(code, id);
      return out === null ? null : { code: out, map: null };
    },
  };
}
