/**
 * TFLite's own interpreter, compiled to WebAssembly (@tensorflow/tfjs-tflite, with the tfjs-core and
 * CPU-backend builds it runs on), in a worker of its own (worker/tflite.worker.ts), loaded from the
 * app's /tflite/ (offline). The page runs every .tflite export here before it offers it, as it loads
 * every ONNX export in onnxruntime, then checks it against the float model (state/tfliteGuard.ts).
 */
import type { TfliteOutput, TfliteWorkerReply, TfliteWorkerRequest } from './tfliteProtocol';

export type { TfliteOutput };

export interface TfliteRun {
  readonly outputs: readonly TfliteOutput[];
  readonly ms: number;
}

/** A .tflite file loaded in TFLite's interpreter: run as often as needed, one run at a time, then closed. */
export interface TfliteModel {
  /** Runs once on the given inputs, in the file's order and layout (zeros where none is given). */
  run(inputs?: readonly (Float32Array | Int8Array | null)[]): Promise<TfliteRun>;
  close(): void;
}

/** Loads a .tflite file in a new TFLite worker; fails with the interpreter's words where it cannot. */
export async function openTflite(bytes: Uint8Array, base = `${import.meta.env.BASE_URL}tflite/`): Promise<TfliteModel> {
  // a classic worker: tfjs-tflite loads its WebAssembly with importScripts
  const worker = new Worker(new URL('./worker/tflite.worker.ts', import.meta.url), {
    type: 'classic',
    name: 'quantscope-tflite',
  });
  let answer: ((r: TfliteWorkerReply) => void) | null = null;
  let broken: string | null = null;
  worker.addEventListener('message', (e: MessageEvent<TfliteWorkerReply>) => answer?.(e.data));
  worker.addEventListener('error', (e) => {
    broken = e.message || 'the TFLite worker stopped without saying why';
    answer?.({ type: 'error', message: broken });
  });
  const ask = (m: TfliteWorkerRequest, transfer: Transferable[] = []) =>
    new Promise<TfliteWorkerReply>((resolve, reject) => {
      if (broken) return reject(new Error(broken));
      answer = (r) => {
        answer = null;
        if (r.type === 'error') reject(new Error(r.message));
        else resolve(r);
      };
      worker.postMessage(m, transfer);
    });
  const copy = bytes.slice().buffer;
  try {
    await ask({ type: 'open', base, bytes: copy }, [copy]);
  } catch (e) {
    worker.terminate();
    throw e;
  }
  return {
    async run(inputs = []) {
      const r = await ask({ type: 'run', inputs });
      if (r.type !== 'ran') throw new Error(`the TFLite worker answered '${r.type}' to a run`);
      return { outputs: r.outputs, ms: r.ms };
    },
    close() {
      worker.postMessage({ type: 'close' } satisfies TfliteWorkerRequest);
      // the worker closes itself; terminate in case it is stuck in a run
      setTimeout(() => worker.terminate(), 1000);
    },
  };
}
