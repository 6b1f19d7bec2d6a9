/**
 * TFLite's own interpreter, compiled to WebAssembly (@tensorflow/tfjs-tflite, with the tfjs-core and
 * CPU-backend builds it runs on), loaded from the app's /tflite/ (vite.config.ts copies it there:
 * offline, nothing fetched from elsewhere). The page runs every .tflite export once here before it
 * offers it, as it loads every ONNX export in onnxruntime.
 */
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

let loading: Promise<TfliteGlobal> | null = null;

function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.appendChild(s);
  });
}

/** Loads tfjs-core, its CPU backend and tfjs-tflite once (classic scripts: tfjs-tflite's UMD build). */
export function loadTfliteRuntime(base = `${import.meta.env.BASE_URL}tflite/`): Promise<TfliteGlobal> {
  loading ??= (async () => {
    for (const f of ['tf-core.min.js', 'tf-backend-cpu.min.js', 'tf-tflite.min.js']) await loadScript(`${base}${f}`);
    const g = (globalThis as unknown as { tflite: TfliteGlobal }).tflite;
    g.setWasmPath(base);
    return g;
  })();
  loading.catch(() => (loading = null));
  return loading;
}

export interface TfliteOutput {
  readonly dataType: string;
  readonly shape: readonly number[];
  readonly data: ArrayBufferView & ArrayLike<number>;
}

export interface TfliteRun {
  readonly outputs: readonly TfliteOutput[];
  readonly ms: number;
}

/** A .tflite file loaded in TFLite's interpreter: run as often as needed, then closed. */
export interface TfliteModel {
  /** Runs once on the given inputs, in the file's order and layout (zeros where none is given). */
  run(inputs?: readonly (ArrayLike<number> | null)[]): TfliteRun;
  close(): void;
}

export async function openTflite(bytes: Uint8Array): Promise<TfliteModel> {
  const tflite = await loadTfliteRuntime();
  const model = await tflite.loadTFLiteModel(bytes.slice().buffer, { numThreads: 1 });
  const runner = model.modelRunner;
  return {
    run(inputs = []) {
      const t0 = performance.now();
      runner.getInputs().forEach((t, i) => {
        const v = inputs[i];
        if (v) t.data().set(v);
      });
      if (!runner.infer()) throw new Error('the TFLite interpreter could not run the file');
      // copies: the interpreter's buffers are overwritten by the next run
      const outputs = runner.getOutputs().map((o) => ({
        dataType: o.dataType,
        shape: o.shape.split(',').map(Number),
        data: (o.data() as unknown as { slice(): ArrayBufferView & ArrayLike<number> }).slice(),
      }));
      return { outputs, ms: performance.now() - t0 };
    },
    close: () => runner.cleanUp(),
  };
}

/** Loads a .tflite file and runs it once on the given inputs (zeros where none is given). */
export async function runTfliteOnce(
  bytes: Uint8Array,
  inputs: readonly (ArrayLike<number> | null)[] = [],
): Promise<TfliteRun> {
  const model = await openTflite(bytes);
  try {
    return model.run(inputs);
  } finally {
    model.close();
  }
}
