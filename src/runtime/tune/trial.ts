/**
 * What the tuning search (search.ts) records and answers: each configuration tried (a trial), how a
 * trial is measured, which of two trials is better, and the search's result.
 */
import type { QuantConfig } from '../../core/config';
import type { EvalMetrics } from './evaluate';
import type { Target } from './target';

export interface Trial {
  readonly id: number;
  readonly label: string;
  readonly config: QuantConfig;
  readonly metrics: EvalMetrics;
  /** The target's metric; where the evaluation stopped early (metrics.atMost), the most it could be. */
  readonly value: number;
  readonly bytes: number;
  /** Measured on every held-out sample and meets the target. */
  readonly meets: boolean;
}

/** Measured on fewer than all held-out samples: stopped by a bound, or a screening run. */
export function isPartial(t: Pick<Trial, 'metrics'>, sampleCount: number): boolean {
  return t.metrics.samples < sampleCount;
}

export interface Change {
  readonly group: string;
  readonly choice: string;
  readonly before: number;
  readonly after: number;
}

export interface TuneResult {
  readonly target: Target;
  readonly trials: readonly Trial[];
  /** Index into trials of the answer: the smallest that meets the target, else the best. */
  readonly chosen: number;
  readonly met: boolean;
  readonly changes: readonly Change[];
  readonly elapsedMs: number;
  readonly runs: number;
}

/**
 * How a trial is measured: `meet` stops once the target cannot hold, `beat` once the trial cannot beat
 * a value (both exact: evaluate.ts EvalBound), `screen` runs only the first few (hardest) samples.
 */
export type Measure = { readonly meet: true } | { readonly beat: number } | { readonly screen: number } | null;

// better: higher target value, then higher SQNR (top-1 agreement is coarse); a trial stopped early
// holds only an upper bound, so it is never better than a trial measured on every sample
export const better = (a: Trial, b: Trial) => {
  const [pa, pb] = [a.metrics.atMost !== undefined, b.metrics.atMost !== undefined];
  if (pa !== pb) return pb;
  return a.value > b.value || (a.value === b.value && a.metrics.sqnrDb > b.metrics.sqnrDb);
};
