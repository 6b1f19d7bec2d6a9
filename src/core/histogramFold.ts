/**
 * Folding batches into a histogram on the CPU: updateHistogram (one ORT collect_data() call) and the
 * one-pass fold of a batch inside the range already binned. Moved from histogram.ts.
 */
import { addLanes, binCovered, binInto } from './histogramBinning';
import { planHistogramUpdate } from './histogramPlan';
import type { HistogramState } from './histogram';
import { finiteMinMax } from './minmax';
import { f32 } from './rounding';

function scan(data: ArrayLike<number>): { min: number; max: number; nan: number; inf: number } {
  const finite = data instanceof Float32Array ? finiteMinMax(data) : null;
  if (finite) return { ...finite, nan: 0, inf: 0 };
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v !== v) nan++;
    else if (v === Infinity || v === -Infinity) inf++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { min, max, nan, inf };
}

/**
 * Fold one batch into the histogram. ±Inf is refused (ORT raises too); callers check min/max
 * statistics first and keep such tensors float.
 */
export function updateHistogram(
  state: HistogramState,
  data: ArrayLike<number>,
  tensorName = 'tensor',
  known?: { min: number; max: number; nanCount: number; infCount: number },
): HistogramState {
  if (!known && data instanceof Float32Array) {
    // A batch inside the range already binned folds in one pass; otherwise its min/max, when finite,
    // spare the general path its scan.
    const fast = foldInRange(state, data);
    if (fast.histogram) return fast.histogram;
    if (Number.isFinite(fast.min) && Number.isFinite(fast.max))
      known = { min: fast.min, max: fast.max, nanCount: 0, infCount: 0 };
  }
  const s = known ? { min: known.min, max: known.max, nan: known.nanCount, inf: known.infCount } : scan(data);
  const step = planHistogramUpdate(
    state,
    { min: s.min, max: s.max, count: data.length, nanCount: s.nan, infCount: s.inf },
    tensorName,
  );
  if (!('merge' in step)) return step;
  const binned = new Float64Array(step.bins);
  binInto(binned, data, step.lo, step.hi);
  return step.merge(binned);
}

/**
 * One pass for the common case, a batch inside the range already binned: min/max and binning in
 * the same loop. When the batch is not inside (NaN, ±Inf or a value outside the range) `histogram`
 * is null and nothing changed; `min`/`max` are then the batch's (NaN when it held NaN) for the
 * caller's general path, so it need not scan again. Results equal updateHistogram's.
 */
export function foldInRange(
  state: HistogramState,
  data: Float32Array,
): { histogram: HistogramState | null; min: number; max: number } {
  const n = state.counts.length;
  if (n === 0 || state.threshold === 0 || data.length === 0) {
    const mm = data.length === 0 ? null : finiteMinMax(data);
    return { histogram: null, min: mm ? mm.min : NaN, max: mm ? mm.max : NaN };
  }
  const t = state.threshold;
  const fold = binCovered(data, -t, t, n);
  const { min, max } = fold;
  if (!(min >= -t && max <= t)) return { histogram: null, min, max };
  const counts = Float64Array.from(state.counts);
  addLanes(counts, fold.lanes);
  return {
    histogram: {
      ...state,
      counts,
      min: Math.min(state.min, f32(min)),
      max: Math.max(state.max, f32(max)),
      total: state.total + data.length,
    },
    min,
    max,
  };
}

/** foldInRange for any array: null when the batch is not inside the range already binned. */
export function updateHistogramInRange(
  state: HistogramState,
  data: ArrayLike<number>,
): { histogram: HistogramState; min: number; max: number } | null {
  const r = foldInRange(state, data instanceof Float32Array ? data : Float32Array.from(data));
  return r.histogram ? { histogram: r.histogram, min: r.min, max: r.max } : null;
}
