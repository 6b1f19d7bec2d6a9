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
import { QuantscopeError } from '../core/errors';
import { foldIntoAbsHistogram, seedAbsHistogram, type AbsHistogramState } from '../core/absHistogram';
import { createHistogram, type HistogramState } from '../core/histogram';
import { foldInRange, updateHistogram } from '../core/histogramFold';
import { f32 } from '../core/rounding';
import { createTorchHistogram, observeTorchHistogram, type TorchHistogramState } from '../core/torchHistogram';
import { createMinMax, isNonFinite, minAbsOf, reduceMinMax, mergeMinMax, type MinMaxState } from '../core/minmax';
import type { Feeds, FeedTensor, OrtModule, Tensor } from './ort';
import { toOrtFeeds } from './ort';
import { carryOver, chainedFeeds, withChainOutputs, type Chain } from './recurrent';

export interface TensorStats {
  readonly minmax: MinMaxState;
  readonly histogram: HistogramState;
  /** Each sample's finite min and max (the moving averages need them). */
  readonly batchMin: Float32Array;
  readonly batchMax: Float32Array;
  /** onnxruntime's |x| histogram, in the two-pass mode only. */
  readonly abs?: AbsHistogramState;
  /** Why the histogram stopped (a range whose width overflows float32): histogram methods are unavailable. */
  readonly histogramError?: string;
  /** PyTorch HistogramObserver's own histogram, one observer call a sample (when asked for). */
  readonly torchHistogram?: TorchHistogramState;
}

export type CalibrationMode = 'streaming' | 'onnxruntime-exact';

export type StatsMap = Record<string, TensorStats>;

export interface CalibrationSource {
  readonly count: number;
  /** Produce sample i's feeds (decoded lazily, so only one sample is in memory at a time). */
  feeds(i: number): Promise<Feeds>;
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
}

export function emptyStats(tensors: readonly string[], bins = 2048): StatsMap {
  const out: StatsMap = {};
  for (const t of tensors)
    out[t] = {
      minmax: createMinMax(),
      histogram: createHistogram(bins),
      batchMin: new Float32Array(0),
      batchMax: new Float32Array(0),
    };
  return out;
}

function appended(a: Float32Array, v: number): Float32Array {
  const out = new Float32Array(a.length + 1);
  out.set(a);
  out[a.length] = v;
  return out;
}

/** A sample's extremes (NaN when it had no finite value), appended to the per-sample lists. */
export function withSample(stats: TensorStats, mm: MinMaxState): Pick<TensorStats, 'batchMin' | 'batchMax'> {
  const none = mm.min > mm.max;
  return {
    batchMin: appended(stats.batchMin, none ? NaN : mm.min),
    batchMax: appended(stats.batchMax, none ? NaN : mm.max),
  };
}

/** Fold one fetched tensor into its statistics. A tensor with NaN/Inf keeps min/max counts only. */
export function foldTensor(stats: TensorStats, name: string, data: ArrayLike<number>): TensorStats {
  let mm: MinMaxState | undefined;
  if (!isNonFinite(stats.minmax) && data instanceof Float32Array) {
    // One pass: min/max and the bins at once when the sample stays inside the range already binned
    // (every sample once the range has settled); otherwise its finite min/max spare the scan below.
    const fast = foldInRange(stats.histogram, data);
    if (Number.isFinite(fast.min) && Number.isFinite(fast.max))
      mm = { min: fast.min, max: fast.max, count: data.length, nanCount: 0, infCount: 0 };
    if (fast.histogram && mm)
      return { ...stats, minmax: mergeMinMax(stats.minmax, mm), histogram: fast.histogram, ...withSample(stats, mm) };
  }
  mm ??= reduceMinMax(data);
  const minmax = mergeMinMax(stats.minmax, mm);
  if (isNonFinite(minmax) || stats.histogramError) return { ...stats, minmax, ...withSample(stats, mm) };
  return { ...stats, minmax, ...histogramOrError(stats, name, data, mm), ...withSample(stats, mm) };
}

/** The histogram folded, or (a range too wide for float32) the histogram kept and the reason named. */
function histogramOrError(
  stats: TensorStats,
  name: string,
  data: ArrayLike<number>,
  mm?: MinMaxState,
): Pick<TensorStats, 'histogram' | 'histogramError'> {
  try {
    return { histogram: updateHistogram(stats.histogram, data, name, mm) };
  } catch (e) {
    if (e instanceof QuantscopeError && e.code === 'NON_FINITE')
      return { histogram: stats.histogram, histogramError: e.message };
    throw e;
  }
}

/** The first pass of the two-pass mode: min/max, the sample's extremes, and min|x|. */
interface FirstPass {
  readonly minmax: MinMaxState;
  readonly minAbs: number;
}

function scanFirstPass(prev: FirstPass, mm: MinMaxState, data: ArrayLike<number>): FirstPass {
  return { minmax: mergeMinMax(prev.minmax, mm), minAbs: Math.min(prev.minAbs, minAbsOf(data)) };
}

/** Histograms seeded on the final ranges: every later sample is binned without growth. */
function seedSecondPass(bins: number, first: FirstPass): Pick<TensorStats, 'histogram' | 'abs'> {
  const { min, max } = first.minmax;
  if (isNonFinite(first.minmax) || min > max) return { histogram: createHistogram(bins) };
  const t = f32(Math.max(Math.abs(f32(min)), Math.abs(f32(max))));
  const histogram: HistogramState = { ...createHistogram(bins), counts: new Float64Array(bins), threshold: t };
  let abs: AbsHistogramState | undefined;
  try {
    abs = seedAbsHistogram(first.minAbs, t, bins);
  } catch {
    abs = undefined; // |x| too narrow for float32 bins: the symmetric percentile folds the value histogram
  }
  return { histogram, abs };
}

function foldSecondPass(stats: TensorStats, name: string, data: ArrayLike<number>): TensorStats {
  if (isNonFinite(stats.minmax) || stats.histogramError) return stats;
  const next = histogramOrError(stats, name, data);
  const abs = stats.abs && !next.histogramError ? foldIntoAbsHistogram(stats.abs, data, name) : undefined;
  return { ...stats, ...next, abs };
}

/**
 * One HistogramObserver call. A tensor with NaN or ±Inf (PyTorch's observer fails on it) keeps the
 * histogram it had; its min/max statistics already keep it float.
 */
function observeTorch(stats: TensorStats, name: string, data: Float32Array): TensorStats {
  try {
    return {
      ...stats,
      torchHistogram: observeTorchHistogram(stats.torchHistogram ?? createTorchHistogram(), data, name),
    };
  } catch (e) {
    if (e instanceof QuantscopeError && e.code === 'NON_FINITE') return stats;
    throw e;
  }
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
  const missing = tensors.filter((t) => !session.outputNames.includes(t));
  if (missing.length)
    throw new QuantscopeError('RUNTIME', `the calibration session does not output ${missing.slice(0, 3).join(', ')}`);
  if (tensors.length === 0)
    throw new QuantscopeError('NO_STATISTICS', 'nothing to calibrate: the model has no activation to quantize');
  const chain = opts.chain ?? [];
  const missingChain = chain.filter((c) => !session.outputNames.includes(c.output));
  if (missingChain.length)
    throw new QuantscopeError('RUNTIME', `the calibration session does not output ${missingChain[0]!.output} to chain`);
  const fetches = withChainOutputs(tensors, chain);
  const exact = opts.mode === 'onnxruntime-exact';
  const steps = exact ? 2 * source.count : source.count;
  // One pass over the samples: run the model, hand each fetched float32 tensor to `fold`, drop it.
  const pass = async (
    offset: number,
    fold: (t: string, data: Float32Array) => void,
    foldAll?: (results: Record<string, Tensor>) => Promise<void>,
  ) => {
    let carried: Record<string, FeedTensor> | null = null;
    for (let i = 0; i < source.count; i++) {
      checkCancelled(opts.signal);
      const feeds = chainedFeeds(await source.feeds(i), carried);
      checkCancelled(opts.signal);
      const results = await session.run(toOrtFeeds(ort, feeds), fetches);
      if (chain.length) carried = carryOver(results, chain);
      if (foldAll) await foldAll(results);
      for (const t of foldAll ? [] : tensors) {
        const out = results[t] as Tensor;
        if (out.type !== 'float32') throw new QuantscopeError('RUNTIME', `tensor "${t}" is ${out.type}, not float32`);
        fold(t, out.data as Float32Array);
        out.dispose?.();
      }
      opts.onProgress?.(offset + i + 1, steps);
    }
  };
  const stats = emptyStats(tensors, bins);
  // PyTorch's observer sees each sample once, whatever the mode: one call a sample, in the first pass
  const observe = opts.torchHistograms
    ? (t: string, data: Float32Array) => (stats[t] = observeTorch(stats[t]!, t, data))
    : () => undefined;
  if (!exact) {
    const device = opts.deviceFold;
    await pass(
      0,
      (t, data) => {
        stats[t] = foldTensor(stats[t]!, t, data);
        observe(t, data);
      },
      device && ((results) => device(stats, results, tensors)),
    );
    return stats;
  }
  const first: Record<string, FirstPass> = {};
  for (const t of tensors) first[t] = { minmax: createMinMax(), minAbs: Infinity };
  await pass(0, (t, data) => {
    observe(t, data);
    const mm = reduceMinMax(data);
    first[t] = scanFirstPass(first[t]!, mm, data);
    stats[t] = { ...stats[t]!, ...withSample(stats[t]!, mm) };
  });
  for (const t of tensors) stats[t] = { ...stats[t]!, minmax: first[t]!.minmax, ...seedSecondPass(bins, first[t]!) };
  await pass(source.count, (t, data) => (stats[t] = foldSecondPass(stats[t]!, t, data)));
  return stats;
}
