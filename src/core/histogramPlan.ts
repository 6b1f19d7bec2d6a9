/**
 * Planning one batch's fold into a histogram: the range and bins it is binned into, grown the ORT way
 * (calibrate.py's merge_histogram), and the merge of its bins into the state. Moved from histogram.ts.
 */
import { QuantscopeError } from './errors';
import { histogramRange, outerEdges, type HistogramState } from './histogram';
import { f32 } from './rounding';
// numpy's float32 floor_divide (npy_divmod) takes c10's div_floor_floating steps: one function for both
import { divFloor32 } from './torchHistogramError';

/**
 * What folding one batch needs binned: its values' counts in `bins` bins over [lo, hi] (numpy's
 * float32 edges, histogramEdges), which `merge` then folds into the state. The CPU fold bins with
 * binInto; the WebGPU fold (runtime/gpuHistogram) bins on the device from the same plan.
 */
export interface HistogramStep {
  readonly lo: number;
  readonly hi: number;
  readonly bins: number;
  /** The state after the batch, from its bins (a Float64Array is taken over, not copied). */
  merge(binned: ArrayLike<number>): HistogramState;
}

/** A batch's statistics as the fold needs them: its finite min/max and what it held. */
export interface BatchStats {
  readonly min: number;
  readonly max: number;
  readonly count: number;
  readonly nanCount: number;
  readonly infCount: number;
}

/**
 * The range and bins a batch with these statistics is binned into (growing the range the ORT way),
 * or the next state directly when it has nothing finite to bin. ±Inf and a range whose width
 * overflows float32 are refused (NON_FINITE), as updateHistogram refuses them.
 */
export function planHistogramUpdate(
  state: HistogramState,
  s: BatchStats,
  tensorName = 'tensor',
): HistogramState | HistogramStep {
  if (s.infCount > 0)
    throw new QuantscopeError('NON_FINITE', `${tensorName} contains ±Infinity: it cannot be histogrammed`);
  const finite = s.count - s.nanCount;
  if (finite === 0) return { ...state, nanCount: state.nanCount + s.nanCount };
  const min = f32(s.min);
  const max = f32(s.max);
  const t = f32(Math.max(Math.abs(min), Math.abs(max)));
  if (!Number.isFinite(f32(2 * t))) {
    throw new QuantscopeError(
      'NON_FINITE',
      `${tensorName} spans [${min}, ${max}]: the range's width overflows float32 to Infinity`,
    );
  }
  const base = {
    min: Math.min(state.min, min),
    max: Math.max(state.max, max),
    nanCount: state.nanCount + s.nanCount,
    binCount: state.binCount,
    rebinned: state.rebinned,
  };
  const old = state.counts;
  const own = (b: ArrayLike<number>) => (b instanceof Float64Array ? b : Float64Array.from(b));
  const addOld = (counts: Float64Array, at: number) => {
    for (let i = 0; i < old.length; i++) counts[at + i]! += old[i]!;
    return counts;
  };
  if (old.length === 0) {
    const [lo, hi] = outerEdges(-t, t);
    return { lo, hi, bins: state.binCount, merge: (b) => ({ ...base, counts: own(b), threshold: t, total: finite }) };
  }
  if (t <= state.threshold) {
    const [lo, hi] = outerEdges(-state.threshold, state.threshold);
    const threshold = state.threshold;
    const total = state.total + finite;
    return { lo, hi, bins: old.length, merge: (b) => ({ ...base, counts: addOld(own(b), 0), threshold, total }) };
  }
  if (state.threshold === 0) {
    const total = state.total + finite;
    return {
      lo: -t,
      hi: t,
      bins: old.length,
      merge: (b) => ({ ...base, counts: addOld(own(b), 0), threshold: t, total }),
    };
  }
  // Grow by whole bins of the old stride on both sides: all float32 arithmetic, as numpy does it.
  const stride = f32(f32(2 * state.threshold) / old.length);
  const half = stride > 0 ? divFloor32(f32(t - state.threshold), stride) + 1 : Infinity;
  if (!(old.length + 2 * half <= MAX_GROWN_BINS))
    return { lo: -t, hi: t, bins: state.binCount, merge: (b) => rebinGrown(state, own(b), t, base, finite) };
  const grown = f32(f32(half * stride) + state.threshold);
  const total = state.total + finite;
  return {
    lo: -grown,
    hi: grown,
    bins: old.length + 2 * half,
    merge: (b) => ({ ...base, counts: addOld(own(b), half), threshold: grown, total }),
  };
}

/**
 * Past this many bins (a range that grew 16-fold from its first batch) the histogram stops growing
 * the ORT way and is re-binned to `binCount` bins over the new range, so memory stays bounded by the
 * bins (at most 256 KiB a tensor), not by how far the range explodes. Up to the cap, results equal
 * onnxruntime's exactly; past it the state says so (`rebinned`), and the page shows it.
 */
export const MAX_GROWN_BINS = 2048 * 16;

function rebinGrown(
  state: HistogramState,
  counts: Float64Array,
  t: number,
  base: Pick<HistogramState, 'min' | 'max' | 'nanCount' | 'binCount' | 'rebinned'>,
  finite: number,
): HistogramState {
  const n = state.counts.length;
  const [lo, hi] = histogramRange(state);
  const width = (hi - lo) / n;
  for (let i = 0; i < n; i++) {
    const c = state.counts[i]!;
    if (c === 0) continue;
    const centre = lo + (i + 0.5) * width;
    const j = Math.min(counts.length - 1, Math.max(0, Math.floor(((centre + t) / (2 * t)) * counts.length)));
    counts[j]! += c;
  }
  return { ...base, counts, threshold: t, total: state.total + finite, rebinned: base.rebinned + 1 };
}
