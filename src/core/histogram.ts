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
import { binFixedWasm } from './histogramKernel';
import { finiteMinMax, signedZero, warmUpLoops } from './minmax';
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
  if (data instanceof Float32Array) {
    // The fast kernel bins everything; it is kept only when every value was inside [lo, hi].
    const fold = binCovered(data, lo, hi, counts.length);
    if (fold.min >= lo && fold.max <= hi) {
      addLanes(counts, fold.lanes);
      return;
    }
  }
  binIntoChecked(counts, data, lo, hi);
}

/** binInto for any data: values outside [lo, hi] and NaN skipped one by one (the slow path). */
function binIntoChecked(counts: Float64Array, data: ArrayLike<number>, lo: number, hi: number): void {
  const n = counts.length;
  const edges = edgesFor(lo, hi, n).edges;
  const scale = n / f32(hi - lo);
  const local = new Uint32Array(n);
  const last = n - 1;
  for (let k = 0; k < data.length; k++) {
    const x = data[k]!;
    if (!(x >= lo && x <= hi)) continue; // NaN and out-of-range values are not counted
    let i = Math.min(last, ((x - lo) * scale) | 0); // >= 0, so truncation is floor
    if (x < edges[i]! || x >= edges[i + 1]!) i = walkToBin(x, i, lo, hi, edges, last);
    local[i]!++;
  }
  for (let i = 0; i < n; i++) counts[i]! += local[i]!;
}

/**
 * Counts are kept in LANES interleaved copies (bin i of lane l at i * LANES + l): consecutive equal
 * values (ReLU's zeros, a saturated tail) then increment different words, so one increment never
 * waits for the previous one's store. Measured on PP-OCRv4 det's activations: 2x faster than one lane.
 */
const LANES = 4;
let laneScratch = new Uint32Array(LANES * 2048);

/** Fixed-point bits of a value's position in bins: position * 2^FRAC_BITS, truncated to an integer. */
const FRAC_BITS = 10;
const FRAC_MASK = (1 << FRAC_BITS) - 1;

interface BinGeometry {
  readonly lo: number;
  readonly hi: number;
  readonly n: number;
  /** numpy's float32 edges, as float64 (compared without conversion). */
  readonly edges: Float64Array;
  /**
   * Half-width, in 2^-FRAC_BITS of a bin, of the window around each edge where a value's estimated
   * bin must be checked against the float32 edges; 0 when the fixed-point estimate cannot be trusted
   * (edges far from their ideal positions: subnormal or enormous ranges), and every value is checked.
   */
  readonly window: number;
  /**
   * The same window for the WASM kernel, whose position is computed in float32 (histogramKernel.wat):
   * the subtraction, the product and the scale each round by at most 2^-24 relative, so at most
   * 3 n 2^-24 bins more.
   */
  readonly windowF32: number;
  /** The bin of ±0 (exact zeros sit on the centre edge of a symmetric range: walked once, here). */
  readonly zeroBin: number;
}

let geometryCache: BinGeometry = {
  lo: NaN,
  hi: NaN,
  n: 0,
  edges: new Float64Array(0),
  window: 0,
  windowF32: 0,
  zeroBin: 0,
};

/**
 * The edges for [lo, hi] in n bins, and how far a value's estimated position (x - lo) * scale can
 * sit from the true side of an edge: the largest distance of a float32 edge from its ideal position
 * k (measured here, edge by edge, in float64), plus the estimate's own rounding (scale is n over a
 * float32 width: relative error 2^-24, so at most n * 2^-24 bins, doubled for float64's part). A value
 * whose estimate is further than that from every edge is in the estimated bin for certain.
 */
function edgesFor(lo: number, hi: number, n: number): BinGeometry {
  const c = geometryCache;
  if (c.lo === lo && c.hi === hi && c.n === n) return c;
  const edges = Float64Array.from(histogramEdges(lo, hi, n));
  const scale = n / f32(hi - lo);
  let drift = 0;
  for (let k = 0; k <= n; k++) drift = Math.max(drift, Math.abs((edges[k]! - lo) * scale - k));
  const tol = drift + n * 2 ** -23 + 1e-9;
  const window = Math.ceil(tol * (1 << FRAC_BITS)) + 1;
  const trusted = Number.isFinite(scale) && window <= 64 && n * (1 << FRAC_BITS) < 2 ** 30;
  const windowF32 = Math.ceil((tol + n * 3.001 * 2 ** -24) * (1 << FRAC_BITS)) + 1;
  const zeroStart = Math.max(0, Math.min(n - 1, Math.floor((0 - lo) * scale)));
  const zeroBin = walkToBin(0, zeroStart, lo, hi, edges, n - 1);
  geometryCache = {
    lo,
    hi,
    n,
    edges,
    window: trusted ? window : 0,
    windowF32: trusted && windowF32 <= 64 ? windowF32 : 0,
    zeroBin,
  };
  return geometryCache;
}

/** The exact bin of a value near an edge: walk to the float32 edges that hold it (e_i <= x < e_i+1, the last bin closed). */
function walkToBin(x: number, i: number, lo: number, hi: number, edges: Float64Array, last: number): number {
  if (!(x >= lo && x <= hi)) return i; // out of range or NaN: the caller discards this whole batch
  while (i > 0 && x < edges[i]!) i--;
  while (i < last && x >= edges[i + 1]!) i++;
  return i;
}

/**
 * The one-pass kernel: min and max of `data` (NaN when it holds NaN) and its values binned into
 * `n` bins over [lo, hi] in `lanes` (valid only when min >= lo and max <= hi; otherwise the caller
 * discards them). Integer bin arithmetic: a value's position times 2^FRAC_BITS is truncated to an
 * integer; its high bits are the bin, its low bits say whether it lies within the rounding window
 * of an edge (~0.3% of values, plus exact zeros, which sit on the centre edge); only those are
 * checked against the float32 edges, walking to the bin numpy's rule gives. Math.min/Math.max
 * compile to branch-free code (3x faster here than `if (x < min)`); NaN poisons them, which is how
 * the caller learns of NaN.
 */
function binCovered(
  data: Float32Array,
  lo: number,
  hi: number,
  n: number,
): { min: number; max: number; lanes: Uint32Array } {
  const g = edgesFor(lo, hi, n);
  const scale = n / f32(hi - lo);
  if (g.windowF32 > 0) {
    // The WASM SIMD kernel where the engine has it (the same loop, four values at a time)
    const fast = binFixedWasm(data, lo, scale * (1 << FRAC_BITS), FRAC_BITS, g.windowF32, g.edges, g.zeroBin);
    if (fast) return { min: signedZero(data, fast.min), max: signedZero(data, fast.max), lanes: fast.lanes };
  }
  if (laneScratch.length < LANES * n) laneScratch = new Uint32Array(LANES * n);
  const lanes = laneScratch.length === LANES * n ? laneScratch : laneScratch.subarray(0, LANES * n);
  lanes.fill(0);
  if (g.window > 0) binLoopFixed(data, lo, hi, scale, g.edges, g.window, lanes);
  else binLoopChecked(data, lo, hi, scale, g.edges, lanes);
  return { min: signedZero(data, extremes[0]!), max: signedZero(data, extremes[1]!), lanes };
}

/** The last loop's min and max: the hot loops write here rather than allocate a result. */
const extremes = new Float64Array(2);

function binLoopFixed(
  data: Float32Array,
  lo: number,
  hi: number,
  scale: number,
  edges: Float64Array,
  window: number,
  lanes: Uint32Array,
): void {
  // No module constant is read in the loop or starts its accumulators: bundlers turn a module's
  // `const` into `var`, of a type V8 cannot assume (measured 1.7x slower in the bundled worker).
  const bits = FRAC_BITS;
  const mask = FRAC_MASK;
  const last = edges.length - 2;
  const fixedScale = scale * (1 << bits); // a power of two: exact
  const span = 2 * window;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < data.length; k++) {
    const x = data[k]!;
    min = Math.min(min, x);
    max = Math.max(max, x);
    const v = ((x - lo) * fixedScale) | 0;
    let i = Math.max(0, Math.min(last, v >> bits));
    // (v + window) mod 2^FRAC_BITS < 2 window: the position is within `window` of an edge
    if (((v + window) & mask) < span) i = walkToBin(x, i, lo, hi, edges, last);
    lanes[(i << 2) | (k & 3)]!++;
  }
  extremes[0] = min;
  extremes[1] = max;
}

/** The same with every value compared against its bin's edges (ranges whose edges drift far). */
function binLoopChecked(
  data: Float32Array,
  lo: number,
  hi: number,
  scale: number,
  edges: Float64Array,
  lanes: Uint32Array,
): void {
  const last = edges.length - 2;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < data.length; k++) {
    const x = data[k]!;
    min = Math.min(min, x);
    max = Math.max(max, x);
    let i = Math.max(0, Math.min(last, ((x - lo) * scale) | 0));
    if (x < edges[i]! || x >= edges[i + 1]!) i = walkToBin(x, i, lo, hi, edges, last);
    lanes[(i << 2) | (k & 3)]!++;
  }
  extremes[0] = min;
  extremes[1] = max;
}

function addLanes(counts: Float64Array, lanes: Uint32Array): void {
  for (let i = 0; i < counts.length; i++) {
    const j = i * LANES;
    counts[i]! += lanes[j]! + lanes[j + 1]! + lanes[j + 2]! + lanes[j + 3]!;
  }
}

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
  const half = stride > 0 ? floorDivide32(f32(t - state.threshold), stride) + 1 : Infinity;
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

warmUpLoops((d) => {
  const edgeValues = Float32Array.from(histogramEdges(-3, 3, 8));
  binInto(new Float64Array(8), edgeValues, -3, 3);
  binInto(new Float64Array(8), d, -3, 3);
  binInto(new Float64Array(8), Float32Array.of(0, 1e-45, -1e-45), -1e-44, 1e-44); // subnormal: every value checked
});
