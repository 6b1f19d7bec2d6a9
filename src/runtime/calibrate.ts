/**
 * The calibration loop: run the calibration model on each sample and fold every fetched tensor into
 * its statistics (min/max, each sample's min/max, a value histogram), then drop the tensor. Memory is
 * bounded by the bins, not by the data. Runs wherever an OrtModule does (worker, Node).
 *
 * Two modes:
 *  - streaming (default, one pass): the histogram grows across samples as onnxruntime's does across
 *    collect_data() calls (its `calls` semantics);
 *  - onnxruntime-exact (two passes): the first pass finds each tensor's min/max and min|x|/max|x| over
 *    all samples, the second bins every sample on those final ranges. That is what onnxruntime does
 *    inside one quantize_static() call (all batches stacked, then binned), so histograms, percentile,
 *    entropy and the |x| histogram of its symmetric percentile equal onnxruntime's (its `batches`
 *    semantics). It costs one more inference per sample.
 */
import { releaseElementwiseKernel } from '../core/elementwiseKernel';
import { QuantscopeError } from '../core/errors';
import {
  createSampleFold,
  emptyStats,
  type SampleArrays,
  type SampleDims,
  type SampleFold,
  type SampleFoldPlan,
  type StatsMap,
} from './foldStats';
import {
  chooseFolder,
  foldWorkerUseless,
  inThreadFolder,
  startedEarly,
  type FoldWorkerOption,
  type StatsFolder,
} from './foldWorker';
import type { CalibrationFetchPlan } from '../onnx/derivedTensors';
import type { Feeds, FeedTensor, OrtModule, Tensor } from './ort';
import { toOrtFeeds } from './ort';
import { openOutputArrayPool } from './outputArrayPool';
import { carryOver, chainedFeeds, withChainOutputs, type Chain } from './recurrent';
import { runOnSample, sampleAt } from './sampleRun';

export { emptyStats, foldTensor, withSample, type StatsMap, type TensorStats } from './foldStats';

export type CalibrationMode = 'streaming' | 'onnxruntime-exact';

export interface CalibrationSource {
  readonly count: number;
  /** Produce sample i's feeds (decoded lazily, so only one sample is in memory at a time). */
  feeds(i: number): Promise<Feeds>;
  /** Sample i's name (its file), for a run that fails on it. */
  name?(i: number): string;
}

/** The part of an InferenceSession that calibration needs (a queued wrapper satisfies it too). */
export interface CalibrationSession {
  readonly outputNames: readonly string[];
  run(feeds: Record<string, Tensor>, fetches: string[]): Promise<Record<string, Tensor>>;
}

export interface CalibrationOptions {
  readonly bins?: number;
  readonly mode?: CalibrationMode;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
  /** Also keep PyTorch HistogramObserver's histogram of each tensor (the PyTorch presets need it). */
  readonly torchHistograms?: boolean;
  /**
   * Recurrent models in streaming order: each pair's output of sample i feeds its input on sample
   * i + 1 (the first sample keeps its own). Each pass starts the chain again from sample 0.
   */
  readonly chain?: readonly Chain[];
  /**
   * Fold each sample's outputs where they lie (WebGPU: on the device, runtime/gpuHistogramFold.ts),
   * updating `stats` in place of the CPU fold. Streaming mode only.
   */
  readonly deviceFold?: (stats: StatsMap, results: Record<string, Tensor>, tensors: readonly string[]) => Promise<void>;
  /**
   * Fold in a second thread while the next sample runs (runtime/foldWorker.ts), when two samples'
   * activations fit the budget; else (and without this option) one sample at a time in this thread.
   */
  readonly foldWorker?: FoldWorkerOption;
  /** Which way the statistics were folded, in words (said once, after the first sample). */
  readonly onFoldPath?: (note: string, overlapped: boolean) => void;
  /**
   * Fetch only `fetched` and recompute the other tensors from them in the fold
   * (onnx/derivedTensors.ts: planCalibrationFetches); the session outputs `fetched`. Not with `deviceFold`.
   */
  readonly recompute?: CalibrationFetchPlan;
  /**
   * Lend each folded sample's arrays to the next runs' outputs where the runtime asks (default; the
   * page's onnxruntime-web: outputArrayPool.ts). False: every run's outputs are new arrays.
   */
  readonly recycleOutputs?: boolean;
}

function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new QuantscopeError('CANCELLED', 'calibration was cancelled');
}

export async function calibrate(
  ort: OrtModule,
  session: CalibrationSession,
  source: CalibrationSource,
  tensors: readonly string[],
  opts: CalibrationOptions = {},
): Promise<StatsMap> {
  const bins = opts.bins ?? 2048;
  const fetchedTensors = opts.recompute?.fetched ?? tensors;
  const missing = fetchedTensors.filter((t) => !session.outputNames.includes(t));
  if (missing.length)
    throw new QuantscopeError('RUNTIME', `the calibration session does not output ${missing.slice(0, 3).join(', ')}`);
  if (tensors.length === 0)
    throw new QuantscopeError('NO_STATISTICS', 'nothing to calibrate: the model has no activation to quantize');
  const chain = opts.chain ?? [];
  const missingChain = chain.filter((c) => !session.outputNames.includes(c.output));
  if (missingChain.length)
    throw new QuantscopeError('RUNTIME', `the calibration session does not output ${missingChain[0]!.output} to chain`);
  const fetches = withChainOutputs(fetchedTensors, chain);
  const exact = opts.mode === 'onnxruntime-exact';
  const steps = exact ? 2 * source.count : source.count;
  const derived = opts.recompute?.steps.length ? opts.recompute.steps : undefined;
  const plan: SampleFoldPlan = { tensors, bins, exact, torchHistograms: opts.torchHistograms === true, derived };
  // WebGPU folds on the device, into statistics kept here (streaming mode only)
  const device = exact ? undefined : opts.deviceFold;
  if (device && derived)
    throw new QuantscopeError('RUNTIME', 'a device fold reads every tensor on the device: none can be recomputed');
  // each folded sample's arrays are lent to the next runs' outputs where the runtime asks for them (the
  // page's onnxruntime-web: outputArrayPool.ts), sparing a fresh 100+ MiB a sample
  const pool = device || opts.recycleOutputs === false ? null : openOutputArrayPool();
  const recycle = pool ? (arrays: readonly Float32Array[]) => pool.give(arrays) : undefined;
  // chosen on the first sample, when its activations' bytes are known
  let folder = null as StatsFolder | null;
  // the statistics a device fold updates in place, sample after sample
  let onDevice: SampleFold | null = null;
  // a fold worker loads while the first sample runs (ended below if the first sample rules it out)
  const early =
    opts.foldWorker && !device && steps >= 2 && !foldWorkerUseless(opts.foldWorker)
      ? startedEarly(opts.foldWorker)
      : null;
  // the fold path in words, and how many tensors the fold recomputes
  const fetchedWanted = new Set(fetchedTensors.filter((t) => tensors.includes(t))).size;
  const said =
    derived && opts.onFoldPath
      ? (note: string, overlapped: boolean) =>
          opts.onFoldPath!(
            `${note}; ${tensors.length - fetchedWanted} of the ${tensors.length} tensors recomputed in the fold from the ${fetchedTensors.length} fetched`,
            overlapped,
          )
      : opts.onFoldPath;
  // One pass over the samples: run the model, hand each sample's float32 tensors to the folder.
  const pass = async (p: 0 | 1) => {
    let carried: Record<string, FeedTensor> | null = null;
    for (let i = 0; i < source.count; i++) {
      checkCancelled(opts.signal);
      const feeds = chainedFeeds(await source.feeds(i), carried);
      checkCancelled(opts.signal);
      const results = await runOnSample(() => session.run(toOrtFeeds(ort, feeds), fetches), feeds, sampleAt(source, i));
      // chained outputs are copied out here, before the arrays may move to a fold worker
      if (chain.length) carried = carryOver(results, chain);
      if (device) {
        onDevice ??= createSampleFold(plan);
        folder ??= inThreadFolder(onDevice);
        await device(onDevice.stats, results, tensors);
      } else {
        const arrays = sampleArrays(results, fetchedTensors);
        const dims = derived ? sampleDims(results, fetchedTensors) : undefined;
        folder ??= chooseFolder(plan, arrays, steps, early?.option ?? opts.foldWorker, said, dims, recycle);
        await folder.sample(p, arrays, dims);
        for (const t of fetchedTensors) results[t]!.dispose?.();
      }
      opts.onProgress?.(p * source.count + i + 1, steps);
    }
  };
  try {
    await pass(0);
    if (!exact) return folder ? await folder.finish() : emptyStats(tensors, bins);
    folder ??= inThreadFolder(createSampleFold(plan), recycle);
    await folder.seedSecondPass();
    await pass(1);
    return await folder.finish();
  } finally {
    folder?.close();
    pool?.close();
    early?.drop();
    // the recomputed tensors' kernel memory, when this thread folded (a fold worker ends with its own)
    if (derived) releaseElementwiseKernel();
  }
}

/** The fetched tensors' shapes (the recomputed tensors broadcast from them). */
function sampleDims(results: Record<string, Tensor>, tensors: readonly string[]): SampleDims {
  const dims: Record<string, readonly number[]> = {};
  for (const t of tensors) dims[t] = results[t]!.dims;
  return dims;
}

/** A run's fetched tensors as float32 arrays (a tensor of another type cannot be calibrated). */
function sampleArrays(results: Record<string, Tensor>, tensors: readonly string[]): SampleArrays {
  const arrays: Record<string, Float32Array> = {};
  for (const t of tensors) {
    const out = results[t] as Tensor;
    if (out.type !== 'float32') throw new QuantscopeError('RUNTIME', `tensor "${t}" is ${out.type}, not float32`);
    arrays[t] = out.data as Float32Array;
  }
  return arrays;
}
