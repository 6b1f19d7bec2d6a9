/**
 * TFLite's interpreter in a worker of its own (runtime/tflite.ts starts it): the page's thread stays free
 * while a .tflite runs (PP-OCRv4 det's int8 file: about a second a sample). A classic worker, not a module
 * one: tfjs-tflite loads its WebAssembly build with importScripts, which a module worker refuses. So this
 * file imports nothing at run time (types only), and tfjs-core, its CPU backend and tfjs-tflite come from
 * the app's /tflite/ (vite.config.ts copies them there: offline, nothing fetched from elsewhere).
 */
import type { TfliteWorkerReply, TfliteWorkerRequest } from '../tfliteProtocol';

declare function importScripts(...urls: string[]): void;

type TensorInfo = { dataType: string; shape: string; data(): ArrayBufferView & { set(a: ArrayLike<number>): void } };
interface Runner {
  getInputs(): TensorInfo[];
  getOutputs(): TensorInfo[];
  infer(): boolean;
  cleanUp(): void;
}
interface TfliteGlobal {
  setWasmPath(p: string): void;
  loadTFLiteModel(b: ArrayBuffer, o?: { numThreads?: number }): Promise<{ modelRunner: Runner }>;
}
interface Scope {
  postMessage(m: TfliteWorkerReply, transfer?: Transferable[]): void;
  addEventListener(type: 'message', f: (e: MessageEvent<TfliteWorkerRequest>) => void): void;
  close(): void;
}
// Everything inside a function: the scripts importScripts loads share this worker's global scope, and a
// top-level declaration of this file (minified to one letter) would clash with one of theirs.
(() => {
  const scope = self as unknown as Scope;
  let runner: Runner | null = null;

  const fail = (e: unknown) =>
    scope.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) });

  scope.addEventListener('message', (e) => {
    const m = e.data;
    if (m.type === 'open') {
      void (async () => {
        try {
          const g = self as unknown as { tflite?: TfliteGlobal };
          if (!g.tflite) {
            for (const f of ['tf-core.min.js', 'tf-backend-cpu.min.js', 'tf-tflite.min.js'])
              importScripts(`${m.base}${f}`);
            g.tflite!.setWasmPath(m.base);
          }
          runner = (await g.tflite!.loadTFLiteModel(m.bytes, { numThreads: 1 })).modelRunner;
          scope.postMessage({ type: 'opened' });
        } catch (err) {
          fail(err);
        }
      })();
    } else if (m.type === 'run') {
      try {
        const t0 = performance.now();
        runner!.getInputs().forEach((t, i) => {
          const v = m.inputs[i];
          if (v) t.data().set(v);
        });
        if (!runner!.infer()) throw new Error('the TFLite interpreter could not run the file');
        // copies: the interpreter's buffers are overwritten by the next run
        const outputs = runner!.getOutputs().map((o) => ({
          dataType: o.dataType,
          shape: o.shape.split(',').map(Number),
          data: (o.data() as unknown as { slice(): Float32Array | Int8Array }).slice(),
        }));
        const ms = performance.now() - t0;
        scope.postMessage(
          { type: 'ran', outputs, ms },
          outputs.map((o) => o.data.buffer as ArrayBuffer),
        );
      } catch (err) {
        fail(err);
      }
    } else {
      runner?.cleanUp();
      scope.close();
    }
  });
})();
