/**
 * The statistics fold, sample by sample, wherever it runs: in the calibrating thread (runtime/calibrate.ts)
 * or in a fold worker beside it (runtime/foldWorker.ts), the same functions either way (one engine).
 * Each fetched float32 tensor is folded into its statistics (min/max, each sample's min/max, a value
 * histogram; the |x| histogram and PyTorch's observer histogram where asked) and dropped.
 */
import { QuantscopeError } from '../core/errors';
import { visitSampleTensors, type DerivedStep } from './derivedSample';
import { foldIntoAbsHistogram, seedAbsHistogram, type AbsHistogramState } from '../core/absHistogram';
import { createHistogram, type HistogramState } from '../core/histogram';
import { foldInRange, updateHistogram } from '../core/histogramFold';
import { f32 } from '../core/rounding';
import { createTorchHistogram, observeTorchHistogram, type TorchHistogramState } from '../core/torchHistogram';
import {
  createMinMax,
  isNonFinite,
  reduceMinMax,
  reduceMinMaxAbs,
  mergeMinMax,
  type MinMaxState,
} from '../core/minmax';

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

export type StatsMap = Record<string, TensorStats>;

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

function scanFirstPass(prev: FirstPass, mm: MinMaxState, minAbs: number): FirstPass {
  return { minmax: mergeMinMax(prev.minmax, mm), minAbs: Math.min(prev.minAbs, minAbs) };
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

/** What a fold needs to know before the first sample. */
export interface SampleFoldPlan {
  readonly tensors: readonly string[];
  readonly bins: number;
  /** onnxruntime-exact: pass 0 scans the ranges, pass 1 bins on them (seedSecondPass between). */
  readonly exact: boolean;
  /** PyTorch's observer sees each sample once, whatever the mode: one call a sample, in pass 0. */
  readonly torchHistograms: boolean;
  /**
   * Tensors recomputed from the fetched ones (onnx/derivedTensors.ts) before each sample is folded;
   * the fetched arrays come with their shapes.
   */
  readonly derived?: readonly DerivedStep[];
}

/** The fetched tensors' shapes, by name (the recomputed tensors broadcast from them). */
export type SampleDims = Readonly<Record<string, readonly number[]>>;

/** One sample's fetched float32 arrays, by tensor name. */
export type SampleArrays = Readonly<Record<string, Float32Array>>;

/** The fold of a whole calibration run, fed one sample at a time in order. */
export interface SampleFold {
  readonly stats: StatsMap;
  sample(pass: 0 | 1, arrays: SampleArrays, dims?: SampleDims): void;
  /** The two-pass mode, between its passes: histograms seeded on the ranges pass 0 found. */
  seedSecondPass(): void;
}

export function createSampleFold(plan: SampleFoldPlan): SampleFold {
  const { tensors, bins } = plan;
  const stats = emptyStats(tensors, bins);
  const first: Record<string, FirstPass> = {};
  for (const t of tensors) first[t] = { minmax: createMinMax(), minAbs: Infinity };
  // the recomputed tensors' arrays, written again sample after sample (each sample is folded before the next)
  const recomputed = new Map<string, Float32Array>();
  const wanted = new Set(tensors);
  const observe = (t: string, data: Float32Array) => {
    if (plan.torchHistograms) stats[t] = observeTorch(stats[t]!, t, data);
  };
  return {
    stats,
    sample(pass, fetched, dims = {}) {
      const foldOne = (t: string, data: Float32Array) => {
        if (pass === 1) stats[t] = foldSecondPass(stats[t]!, t, data);
        else if (!plan.exact) {
          stats[t] = foldTensor(stats[t]!, t, data);
          observe(t, data);
        } else {
          observe(t, data);
          const { minmax: mm, minAbs } = reduceMinMaxAbs(data);
          first[t] = scanFirstPass(first[t]!, mm, minAbs);
          stats[t] = { ...stats[t]!, ...withSample(stats[t]!, mm) };
        }
      };
      // the recomputed tensors (and the fetched ones they read) folded as they are made, while in
      // cache and before their memory serves the next (a tensor's statistics do not depend on the
      // order the tensors are folded in); then the other fetched ones
      const visited = plan.derived?.length
        ? visitSampleTensors(plan.derived, fetched, dims, (t, data) => wanted.has(t) && foldOne(t, data), recomputed)
        : new Set<string>();
      for (const t of tensors) if (!visited.has(t)) foldOne(t, fetched[t]!);
    },
    seedSecondPass() {
      for (const t of tensors)
        stats[t] = { ...stats[t]!, minmax: first[t]!.minmax, ...seedSecondPass(bins, first[t]!) };
    },
  };
}
