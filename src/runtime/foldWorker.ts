/**
 * Where a calibration's statistics are folded: in the calibrating thread, one sample after its run
 * (the fallback), or in a fold worker, a second thread that folds sample i while the calibrating
 * thread runs sample i + 1. A WASM run holds the thread that awaits it (bench: wasm_run_timer_ticks
 * = 0), so the overlap needs that second thread. Both sides call the same fold (foldStats.ts'
 * createSampleFold): the statistics are the same bit for bit.
 *
 * The worker takes each sample's arrays by transfer (onnxruntime-web copies a CPU output out of the
 * wasm heap into an ArrayBuffer of its own; an array that does not own its buffer is copied first).
 * Back-pressure bounds the samples alive at once: a run starts only while at most one sample waits in
 * the worker (the one being folded), or two where two samples' activations fit the memory to spare
 * (a slow first fold then delays no run). The worker is only chosen when a second sample's
 * activations fit the memory the caller can spare beyond one sample's run (its estimate:
 * runtime/pageMemory.ts, cli/calibration.ts); else one sample at a time, said in words.
 *
 * The environment's part is one function, a SpawnFoldWorker: a worker_threads Worker in Node
 * (foldWorkerNode.ts), a nested Web Worker in the page's calibration worker (foldWorkerWeb.ts).
 */
import { byteSize } from '../core/byteSize';
import { QuantscopeError, toErrorInfo, type ErrorInfo } from '../core/errors';
import { derivedBytes } from './derivedSample';
import {
  createSampleFold,
  type SampleArrays,
  type SampleDims,
  type SampleFold,
  type SampleFoldPlan,
  type StatsMap,
} from './foldStats';

export type FoldRequest =
  | { readonly type: 'init'; readonly plan: SampleFoldPlan }
  | { readonly type: 'sample'; readonly pass: 0 | 1; readonly arrays: SampleArrays; readonly dims?: SampleDims }
  | { readonly type: 'seed' }
  | { readonly type: 'finish' };

export type FoldReply =
  /** A sample folded: its arrays come back (transferred) for the next runs' outputs (outputArrayPool.ts). */
  | { readonly type: 'folded'; readonly arrays?: readonly Float32Array[] }
  | { readonly type: 'stats'; readonly stats: StatsMap }
  | { readonly type: 'error'; readonly error: ErrorInfo };

/** A started fold worker, as the calibrating thread sees it. */
export interface FoldPort {
  post(message: FoldRequest, transfer: ArrayBuffer[]): void;
  /** Every reply in order; `fail` when the worker itself fails (did not load, crashed). */
  listen(reply: (r: FoldReply) => void, fail: (e: ErrorInfo) => void): void;
  terminate(): void;
}

/** Starts a fold worker; throws (synchronously) where there is none, and the fold stays in-thread. */
export type SpawnFoldWorker = () => FoldPort;

export interface FoldWorkerOption {
  readonly spawn: SpawnFoldWorker;
  /**
   * Memory to spare beyond what one sample's run takes: the second sample alive (folded while the
   * next run makes its own) must fit in it.
   */
  readonly spareBytes: number;
  /**
   * Cores this process may run on (os.availableParallelism(), navigator.hardwareConcurrency; read
   * from navigator where the caller does not say). With one, the fold stays in this thread: there the
   * worker cannot fold while a run computes, it only takes turns with it and adds the transfer and
   * its garbage. Measured on det, 6 samples, onnxruntime-web WASM 1 thread under `taskset -c 0`:
   * 2.79, 4.27, 3.57 x plain inference with the worker against 2.64, 2.75, 3.25 in this thread. With
   * onnxruntime's threads on every core (2 threads, 2 cores) the worker measured 2.19, 1.67, 2.82
   * against 2.30, 2.04, 2.77 in this thread in Node (load 5-8): no loss shown there; the page lost, so
   * where the caller says the inference's threads (inferenceThreads) the fold stays in this thread.
   */
  readonly cores?: number;
  /**
   * The threads the inference itself runs on (onnxruntime-web's numThreads), where the caller knows
   * them: with no core left beside them the fold stays in this thread too, the worker only taking turns
   * with onnxruntime's threads (whose parallel loops then wait on a preempted thread). Measured in
   * Chromium on det, 16 documents, 2 threads on 2 cores: 431, 481, 506 ms a sample in this thread
   * against 581, 606, 531 with the worker (bench/browser/calibration.bench.ts, alternated); in Node
   * (bench/calibration-web.mjs, recomputing_in_thread) 2.64, 2.62, 2.65 x plain inference against
   * 2.53, 2.89, 2.40, at 467-585 ms of CPU a sample against 545-674. With one thread on 2 cores the
   * worker wins: 1.20-1.53 against 1.46-2.77.
   */
  readonly inferenceThreads?: number;
}

/** The cores an option says, else navigator's (workers and Node 21+ have it), else unknown. */
function coresOf(option: FoldWorkerOption): number | undefined {
  if (option.cores !== undefined) return option.cores;
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency || undefined;
}

/**
 * Why a fold worker cannot overlap anything here (a single core, or every core running the inference's
 * threads), or null where it can.
 */
export function foldWorkerUseless(option: FoldWorkerOption): string | null {
  const cores = coresOf(option);
  if (cores === undefined) return null;
  if (cores < 2) return 'one core here, where a fold worker would only take turns with the inference';
  const threads = option.inferenceThreads;
  if (threads !== undefined && threads >= cores)
    return `onnxruntime's ${threads} threads take all ${cores} cores here, where a fold worker would only take turns with them`;
  return null;
}

/** Where each sample's arrays are folded. */
export interface StatsFolder {
  /** Fold one sample (a worker takes the arrays: the caller must not use them after); resolves when the next run may start. */
  sample(pass: 0 | 1, arrays: SampleArrays, dims?: SampleDims): Promise<void>;
  /** The two-pass mode, between its passes. */
  seedSecondPass(): Promise<void>;
  /** The statistics, once every sample handed over is folded. */
  finish(): Promise<StatsMap>;
  /** Stop (a worker is terminated): always called, on success, error or cancel. */
  close(): void;
}

/** Where a folded sample's arrays go: a pool that lends them to the next runs' outputs (outputArrayPool.ts). */
export type Recycle = (arrays: readonly Float32Array[]) => void;

/** The fold in the calling thread, one sample at a time. */
export function inThreadFolder(fold: SampleFold, recycle?: Recycle): StatsFolder {
  return {
    sample: async (pass, arrays, dims) => {
      fold.sample(pass, arrays, dims);
      recycle?.(Object.values(arrays));
    },
    seedSecondPass: async () => fold.seedSecondPass(),
    finish: async () => fold.stats,
    close: () => undefined,
  };
}

export const FOLD_OVERLAPPED = 'statistics folded in a second worker, overlapping the next sample’s inference';

/**
 * After the first sample's run (its bytes known exactly): the fold worker when asked for, when there
 * is a next run to overlap, and when a second sample's activations fit the memory to spare; else in
 * this thread.
 */
export function chooseFolder(
  plan: SampleFoldPlan,
  first: SampleArrays,
  runs: number,
  option: FoldWorkerOption | undefined,
  said?: (note: string, overlapped: boolean) => void,
  firstDims?: SampleDims,
  recycle?: Recycle,
): StatsFolder {
  const inThread = (why: string) => {
    said?.(`statistics folded one sample at a time: ${why}`, false);
    return inThreadFolder(createSampleFold(plan), recycle);
  };
  if (!option) return inThreadFolder(createSampleFold(plan), recycle);
  if (runs < 2) return inThread('one run, nothing to overlap');
  const useless = foldWorkerUseless(option);
  if (useless) return inThread(useless);
  // the fetched arrays, and the ones the fold recomputes from them
  let sampleBytes = plan.derived?.length ? derivedBytes(plan.derived, firstDims ?? {}) : 0;
  for (const a of Object.values(first)) sampleBytes += a.byteLength;
  if (sampleBytes > option.spareBytes)
    return inThread(
      `a second sample's ${byteSize(sampleBytes)} of activations would not fit beside the first (${byteSize(Math.max(0, option.spareBytes))} to spare)`,
    );
  let port: FoldPort;
  try {
    port = option.spawn();
  } catch (e) {
    return inThread(`no fold worker here (${toErrorInfo(e).message})`);
  }
  // Two samples may wait in the worker where their activations fit: the first fold (code still cold in
  // the worker, its memory touched for the first time) or a slow one then delays no run, the next one
  // catching up. det, 1 thread: the third run no longer waits ~60 ms for the first fold.
  const queued = 2 * sampleBytes <= option.spareBytes ? 2 : 1;
  said?.(
    `${FOLD_OVERLAPPED} (${byteSize(sampleBytes)} of activations a sample, ${queued === 2 ? 'two' : 'one'} at most waiting to be folded)`,
    true,
  );
  return workerFolder(port, plan, queued, recycle);
}

/**
 * Start the fold worker at once, so that it loads while the first sample runs; `spawn` hands that
 * worker over (or the error starting it), `drop` ends it if it was never handed over.
 */
export function startedEarly(option: FoldWorkerOption): { option: FoldWorkerOption; drop(): void } {
  let port: FoldPort | null = null;
  let error: unknown = null;
  try {
    port = option.spawn();
  } catch (e) {
    error = e;
  }
  let taken = false;
  const spawn: SpawnFoldWorker = () => {
    if (error !== null) throw error;
    taken = true;
    return port!;
  };
  return { option: { ...option, spawn }, drop: () => (taken ? undefined : port?.terminate()) };
}

/** An array's buffer to transfer: its own, or (a view into a larger or shared buffer) a copy's. */
function movable(a: Float32Array): Float32Array {
  const whole = a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
  return whole ? a : a.slice();
}

/**
 * The calibrating thread's side of a fold worker: at most `queued` samples sent and not yet folded when
 * a run starts; each folded sample's arrays, sent back, go to `recycle`.
 */
export function workerFolder(port: FoldPort, plan: SampleFoldPlan, queued = 1, recycle?: Recycle): StatsFolder {
  let waiting = 0; // samples sent and not yet folded
  let failure: QuantscopeError | null = null;
  let stats: StatsMap | null = null;
  let wake: () => void = () => undefined;
  port.listen(
    (r) => {
      if (r.type === 'folded') {
        waiting--;
        if (r.arrays) recycle?.(r.arrays);
      } else if (r.type === 'stats') stats = r.stats;
      else failure ??= new QuantscopeError(r.error.code, r.error.message);
      wake();
    },
    (e) => {
      failure ??= new QuantscopeError(e.code, `the fold worker failed: ${e.message}`);
      wake();
    },
  );
  const until = (done: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (failure) reject(failure);
        else if (done()) resolve();
        else wake = check;
      };
      check();
    });
  const send = (m: FoldRequest, transfer: ArrayBuffer[] = []) => {
    if (failure) throw failure;
    port.post(m, transfer);
  };
  send({ type: 'init', plan });
  return {
    async sample(pass, arrays, dims) {
      const moved: Record<string, Float32Array> = {};
      const buffers = new Set<ArrayBuffer>();
      for (const [t, array] of Object.entries(arrays)) {
        const a = movable(array);
        moved[t] = a;
        buffers.add(a.buffer as ArrayBuffer);
      }
      send({ type: 'sample', pass, arrays: moved, dims }, [...buffers]);
      waiting++;
      // back-pressure: the next run starts once at most `queued` samples wait in the worker
      await until(() => waiting <= queued);
    },
    async seedSecondPass() {
      send({ type: 'seed' });
    },
    async finish() {
      send({ type: 'finish' });
      await until(() => stats !== null);
      return stats!;
    },
    close: () => port.terminate(),
  };
}

/**
 * The fold worker's side, shared by the Node and web entries: fold each request in order, reply.
 * After an error nothing more is folded (the calibrating thread stops at the error).
 */
export function serveFold(reply: (r: FoldReply, transfer?: ArrayBuffer[]) => void): (m: FoldRequest) => void {
  let fold: SampleFold | null = null;
  let failed = false;
  return (m) => {
    if (failed) return;
    try {
      if (m.type === 'init') fold = createSampleFold(m.plan);
      else if (m.type === 'sample') {
        fold!.sample(m.pass, m.arrays, m.dims);
        // the arrays go back (transferred: the fold is done with them) to be written by a later run
        const arrays = Object.values(m.arrays);
        reply({ type: 'folded', arrays }, [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))]);
      } else if (m.type === 'seed') fold!.seedSecondPass();
      else {
        // the histograms move back (transferred: this worker is done with them)
        const counts = new Set(Object.values(fold!.stats).map((s) => s.histogram.counts.buffer as ArrayBuffer));
        reply({ type: 'stats', stats: fold!.stats }, [...counts]);
      }
    } catch (e) {
      failed = true;
      reply({ type: 'error', error: toErrorInfo(e) });
    }
  };
}
