/**
 * Histograms of activations over a symmetric range [-t, t], grown the way onnxruntime's
 * HistogramCollector.collect_value / merge_histogram grows them (calibrate.py), with bins assigned
 * exactly as numpy 2 does for float32 data (numpy/lib/_histograms_impl.py, all float32 arithmetic).
 *
 * One `update` is one ORT collect_data() call: its data is binned together. When a later batch
 * exceeds the range, bins are added on both sides at the old stride, so old counts keep their bins
 * and nothing is re-binned. Counts always sum to the finite elements seen; NaN is dropped and counted.
 */
import { QuantscopeError } from './errors';
import { f32 } from './rounding';

export interface HistogramState {
  /** Bin counts (float64 to count past 2^32 safely). */
  readonly counts: Float64Array;
  /** Range is [-threshold, threshold]; 0 before any data. */
  readonly threshold: number;
  readonly min: number;
  readonly max: number;
  /** Finite elements binned. */
  readonly total: number;
  readonly nanCount: number;
  readonly binCount: number;
  /** Times the range exploded past MAX_GROWN_BINS and the bins were re-binned (approximate since). */
  readonly rebinned: number;
}

export function createHistogram(binCount = 2048): HistogramState {
  return {
    counts: new Float64Array(0),
    threshold: 0,
    min: Infinity,
    max: -Infinity,
    total: 0,
    nanCount: 0,
    binCount,
    rebinned: 0,
  };
}

/** numpy.histogram's edges for float32 [lo, hi] and n bins: linspace in float32. */
export function histogramEdges(lo: number, hi: number, n: number): Float32Array {
  const edges = new Float32Array(n + 1);
  const step = f32(f32(hi - lo) / n);
  for (let i = 0; i < n; i++) edges[i] = f32(f32(i * step) + lo);
  edges[n] = hi;
  return edges;
}

/**
 * Add the finite values of `data` in [lo, hi] to `counts`, exactly as numpy.histogram bins float32
 * data. numpy computes a float32 index and then moves it by one against the float32 edges, so the
 * result is the bin whose edges hold x (e_i <= x < e_{i+1}, the last bin closed). A float64 index
 * followed by the same correction finds that same bin, faster.
 */
export function binInto(counts: Float64Array, data: ArrayLike<number>, lo: number, hi: number): void {
  const n = counts.length;
  const edges = histogramEdges(lo, hi, n);
  const scale = n / f32(hi - lo);
  const local = new Uint32Array(n);
  const last = n - 1;
  // float32 edges sit within a few ulps of |lo| from their exact positions: in bin units that is
  // below n * 2.4e-7, so an index further than `tol` from an edge needs no check.
  const tol = Math.min(0.5, 1e-6 + n * 1e-6);
  for (let k = 0; k < data.length; k++) {
    const x = data[k]!;
    if (!(x >= lo && x <= hi)) continue; // NaN and out-of-range values are not counted
    const t = (x - lo) * scale;
    let i = t | 0; // t >= 0, so truncation is floor
    if (i > last) i = last;
    const frac = t - i;
    // Only an index within rounding distance of an edge can disagree with the float32 edges.
    if (frac < tol || frac > 1 - tol) {
      while (i > 0 && x < edges[i]!) i--;
      while (i < last && x >= edges[i + 1]!) i++;
    }
    local[i]!++;
  }
  for (let i = 0; i < n; i++) counts[i]! += local[i]!;
}

function scan(data: ArrayLike<number>): { min: number; max: number; nan: number; inf: number } {
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
  const s = known ? { min: known.min, max: known.max, nan: known.nanCount, inf: known.infCount } : scan(data);
  if (s.inf > 0) throw new QuantscopeError('NON_FINITE', `${tensorName} contains ±Infinity: it cannot be histogrammed`);
  const finite = data.length - s.nan;
  if (finite === 0) return { ...state, nanCount: state.nanCount + s.nan };
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
    nanCount: state.nanCount + s.nan,
    binCount: state.binCount,
    rebinned: state.rebinned,
  };

  if (state.counts.length === 0) {
    const counts = new Float64Array(state.binCount);
    const [lo, hi] = outerEdges(-t, t);
    binInto(counts, data, lo, hi);
    return { ...base, counts, threshold: t, total: finite };
  }
  const old = state.counts;
  if (t <= state.threshold) {
    const counts = Float64Array.from(old);
    const [lo, hi] = outerEdges(-state.threshold, state.threshold);
    binInto(counts, data, lo, hi);
    return { ...base, counts, threshold: state.threshold, total: state.total + finite };
  }
  if (state.threshold === 0) {
    const counts = new Float64Array(old.length);
    binInto(counts, data, -t, t);
    for (let i = 0; i < old.length; i++) counts[i]! += old[i]!;
    return { ...base, counts, threshold: t, total: state.total + finite };
  }
  // Grow by whole bins of the old stride on both sides: all float32 arithmetic, as numpy does it.
  const stride = f32(f32(2 * state.threshold) / old.length);
  const half = stride > 0 ? floorDivide32(f32(t - state.threshold), stride) + 1 : Infinity;
  if (!(old.length + 2 * half <= MAX_GROWN_BINS)) return rebinGrown(state, data, t, base, finite);
  const grown = f32(f32(half * stride) + state.threshold);
  const counts = new Float64Array(old.length + 2 * half);
  binInto(counts, data, -grown, grown);
  for (let i = 0; i < old.length; i++) counts[half + i]! += old[i]!;
  return { ...base, counts, threshold: grown, total: state.total + finite };
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
  data: ArrayLike<number>,
  t: number,
  base: Pick<HistogramState, 'min' | 'max' | 'nanCount' | 'binCount' | 'rebinned'>,
  finite: number,
): HistogramState {
  const counts = new Float64Array(state.binCount);
  binInto(counts, data, -t, t);
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

/** numpy's floor_divide for float32 (npy_divmod): fmod first, then the quotient, then floor. */
function floorDivide32(a: number, b: number): number {
  const mod = f32(a % b);
  let div = f32(f32(a - mod) / b);
  if (mod !== 0 && b < 0 !== mod < 0) div = f32(div - 1);
  if (div === 0) return 0;
  let floordiv = Math.floor(div);
  if (div - floordiv > 0.5) floordiv += 1;
  return floordiv;
}

/**
 * One pass for the common case, a batch inside the range already binned: min/max and binning in
 * the same loop. Returns null (and changes nothing) as soon as a value is NaN, infinite or outside
 * the range; the caller then takes the general two-pass path. Results equal updateHistogram's.
 */
export function updateHistogramInRange(
  state: HistogramState,
  data: ArrayLike<number>,
): { histogram: HistogramState; min: number; max: number } | null {
  const n = state.counts.length;
  if (n === 0 || state.threshold === 0) return null;
  const t = state.threshold;
  const lo = -t;
  const edges = histogramEdges(lo, t, n);
  const scale = n / f32(t - lo);
  const local = new Uint32Array(n);
  const last = n - 1;
  const tol = Math.min(0.5, 1e-6 + n * 1e-6);
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < data.length; k++) {
    const x = data[k]!;
    if (!(x >= lo && x <= t)) return null; // NaN, ±Inf or outside the range
    if (x < min) min = x;
    if (x > max) max = x;
    // The same bin search as binInto's, written inline: a shared helper (closure or class) measured
    // twice as slow in this, calibration's hottest loop. The property test "one-pass fold inside the
    // known range" pins the two to identical counts.
    const u = (x - lo) * scale;
    let i = u | 0;
    if (i > last) i = last;
    const frac = u - i;
    if (frac < tol || frac > 1 - tol) {
      while (i > 0 && x < edges[i]!) i--;
      while (i < last && x >= edges[i + 1]!) i++;
    }
    local[i]!++;
  }
  if (data.length === 0) return null;
  const counts = Float64Array.from(state.counts);
  for (let i = 0; i < n; i++) counts[i]! += local[i]!;
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

/** numpy widens an empty range [x, x] to [x - 0.5, x + 0.5]. */
function outerEdges(lo: number, hi: number): [number, number] {
  return lo === hi ? [f32(lo - 0.5), f32(hi + 0.5)] : [lo, hi];
}

/** The range a histogram's bins cover, as numpy reports its first and last edge. */
export function histogramRange(state: HistogramState): [number, number] {
  return outerEdges(-state.threshold, state.threshold);
}

/**
 * Re-bin a histogram to at most `maxBins` bins for display (sums of adjacent bins), with the
 * left edge of each output bin. The chart draws these; the statistics keep their own bins.
 */
export function downsampleHistogram(
  state: HistogramState,
  maxBins: number,
): { edges: Float64Array; counts: Float64Array } {
  const n = state.counts.length;
  const [lo, hi] = histogramRange(state);
  const factor = Math.max(1, Math.ceil(n / maxBins));
  const m = Math.ceil(n / factor);
  const counts = new Float64Array(m);
  for (let i = 0; i < n; i++) counts[Math.floor(i / factor)]! += state.counts[i]!;
  const edges = new Float64Array(m + 1);
  const width = (hi - lo) / n;
  for (let j = 0; j <= m; j++) edges[j] = lo + Math.min(j * factor, n) * width;
  return { edges, counts };
}
