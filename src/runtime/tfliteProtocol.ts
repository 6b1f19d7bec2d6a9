/** Messages between the page and its TFLite worker (worker/tflite.worker.ts), one request answered at a time. */
export interface TfliteOutput {
  readonly dataType: string;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int8Array;
}

export type TfliteWorkerRequest =
  /** `base`: where the app serves tfjs-tflite (its /tflite/). */
  | { readonly type: 'open'; readonly base: string; readonly bytes: ArrayBuffer }
  /** Inputs in the file's order and layout (zeros where null). */
  | { readonly type: 'run'; readonly inputs: readonly (Float32Array | Int8Array | null)[] }
  | { readonly type: 'close' };

export type TfliteWorkerReply =
  | { readonly type: 'opened' }
  | { readonly type: 'ran'; readonly outputs: readonly TfliteOutput[]; readonly ms: number }
  | { readonly type: 'error'; readonly message: string };
