/**
 * The calibration loop: run the calibration model on each sample and fold every fetched tensor into
 * its statistics (min/max and a streaming histogram), then drop the tensor. Memory is bounded by the
 * bins, not by the data. Runs wherever an OrtModule does (worker, Node).
 */
import { QuantscopeError } from '../core/errors';
import { createHistogram, updateHistogram, updateHistogramInRange, type HistogramState } from '../core/histogram';
import { createMinMax, isNonFinite, reduceMinMax, mergeMinMax, type MinMaxState } from '../core/minmax';
import type { Feeds, OrtModule, Tensor } from './ort';
import { toOrtFeeds } from './ort';

export interface TensorStats {
  readonly minmax: MinMaxState;
  readonly histogram: HistogramState;
}

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
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

export function emptyStats(tensors: readonly string[], bins = 2048): StatsMap {
  const out: StatsMap = {};
  for (const t of tensors) out[t] = { minmax: createMinMax(), histogram: createHistogram(bins) };
  return out;
}

/** Fold one fetched tensor into its statistics. A tensor with NaN/Inf keeps min/max counts only. */
export function foldTensor(stats: TensorStats, name: string, data: ArrayLike<number>): TensorStats {
  if (!isNonFinite(stats.minmax)) {
    const fast = updateHistogramInRange(stats.histogram, data);
    if (fast) {
      const mm = { min: fast.min, max: fast.max, count: data.length, nanCount: 0, infCount: 0 };
      return { minmax: mergeMinMax(stats.minmax, mm), histogram: fast.histogram };
    }
  }
  const mm = reduceMinMax(data);
  const minmax = mergeMinMax(stats.minmax, mm);
  if (isNonFinite(minmax)) return { minmax, histogram: stats.histogram };
  return { minmax, histogram: updateHistogram(stats.histogram, data, name, mm) };
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
  let stats = emptyStats(tensors, opts.bins);
  const missing = tensors.filter((t) => !session.outputNames.includes(t));
  if (missing.length) throw new QuantscopeError('RUNTIME', `the calibration session does not output ${missing.slice(0, 3).join(', ')}`);
  for (let i = 0; i < source.count; i++) {
    checkCancelled(opts.signal);
    const feeds = await source.feeds(i);
    checkCancelled(opts.signal);
    const results = await session.run(toOrtFeeds(ort, feeds), [...tensors]);
    const next: StatsMap = {};
    for (const t of tensors) {
      const out = results[t] as Tensor;
      if (out.type !== 'float32') throw new QuantscopeError('RUNTIME', `tensor "${t}" is ${out.type}, not float32`);
      next[t] = foldTensor(stats[t]!, t, out.data as Float32Array);
      out.dispose?.();
    }
    stats = next;
    opts.onProgress?.(i + 1, source.count);
  }
  return stats;
}
