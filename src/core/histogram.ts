/**
 * Histograms of activations over a symmetric range [-t, t], grown the way onnxruntime's
 * HistogramCollector.collect_value / merge_histogram grows them (calibrate.py), with bins assigned
 * exactly as numpy 2 does for float32 data (numpy/lib/_histograms_impl.py, all float32 arithmetic).
 *
 * One `update` is one ORT collect_data() call: its data is binned together. When a later batch
 * exceeds the range, bins are added on both sides at the old stride, so old counts keep their bins
 * and nothing is re-binned. Counts always sum to the finite elements seen; NaN is dropped and counted.
 *
 * This module holds the state, its edges and range; the fold is in histogramFold.ts (CPU), planned by
 * histogramPlan.ts (shared with the WebGPU fold), binned by histogramBinning.ts.
 */
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

/** numpy widens an empty range [x, x] to [x - 0.5, x + 0.5]. */
export function outerEdges(lo: number, hi: number): [number, number] {
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
