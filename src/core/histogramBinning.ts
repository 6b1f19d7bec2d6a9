/**
 * Binning float32 data into numpy's float32 histogram edges, fast: fixed-point positions in interleaved
 * lanes (or the WASM kernel), checked against the exact edges only near them. Moved from histogram.ts.
 */
import { histogramEdges } from './histogram';
import { binFixedWasm } from './histogramKernel';
import { signedZero, warmUpLoops } from './minmax';
import { f32 } from './rounding';

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
   * 3 n 2^-24 bins more. In units of 2^-shiftF32 of a bin: the kernel rounds positions by adding 2^23,
   * exact while they stay under 2^22, so past 4096 bins (a grown histogram) it counts fewer
   * fractional bits. 0 where the kernel cannot be used.
   */
  readonly windowF32: number;
  readonly shiftF32: number;
  /** The bin of ±0 (exact zeros sit on the centre edge of a symmetric range: walked once, here). */
  readonly zeroBin: number;
}

/**
 * The geometries of the ranges binned lately, by range and bin count: a calibration bins each of its
 * tensors (det: 236, each its own range) once a sample, so one entry made every tensor's edges again
 * every sample (~5 ms a det sample). Bounded by its edges' bytes (16 KiB an entry for 2048 bins, 512 such
 * entries): past GEOMETRY_CACHE_BYTES the oldest entries go, as a range that grew is not asked for again.
 */
const geometryCache = new Map<string, BinGeometry>();
const GEOMETRY_CACHE_BYTES = 8 * 2 ** 20;
let geometryCacheBytes = 0;

/**
 * The edges for [lo, hi] in n bins, and how far a value's estimated position (x - lo) * scale can
 * sit from the true side of an edge: the largest distance of a float32 edge from its ideal position
 * k (measured here, edge by edge, in float64), plus the estimate's own rounding (scale is n over a
 * float32 width: relative error 2^-24, so at most n * 2^-24 bins, doubled for float64's part). A value
 * whose estimate is further than that from every edge is in the estimated bin for certain.
 */
function edgesFor(lo: number, hi: number, n: number): BinGeometry {
  // ±0 are one key (String(-0) is "0"): their edges are the same numbers
  const key = `${lo} ${hi} ${n}`;
  const cached = geometryCache.get(key);
  if (cached) return cached;
  const edges = Float64Array.from(histogramEdges(lo, hi, n));
  const scale = n / f32(hi - lo);
  let drift = 0;
  for (let k = 0; k <= n; k++) drift = Math.max(drift, Math.abs((edges[k]! - lo) * scale - k));
  const tol = drift + n * 2 ** -23 + 1e-9;
  const window = Math.ceil(tol * (1 << FRAC_BITS)) + 1;
  const trusted = Number.isFinite(scale) && window <= 64 && n * (1 << FRAC_BITS) < 2 ** 30;
  const shiftF32 = Math.min(FRAC_BITS, 22 - Math.ceil(Math.log2(n)));
  const windowF32 = Math.ceil((tol + n * 3.001 * 2 ** -24) * 2 ** shiftF32) + 1;
  const zeroStart = Math.max(0, Math.min(n - 1, Math.floor((0 - lo) * scale)));
  const zeroBin = walkToBin(0, zeroStart, lo, hi, edges, n - 1);
  const g: BinGeometry = {
    lo,
    hi,
    n,
    edges,
    window: trusted ? window : 0,
    // the window is well under half a bin (the kernel's ±0 sits mid-bin, never near an edge)
    windowF32: trusted && shiftF32 >= 6 && windowF32 <= 2 ** (shiftF32 - 4) ? windowF32 : 0,
    shiftF32,
    zeroBin,
  };
  for (const [k, old] of geometryCache) {
    if (geometryCacheBytes + edges.byteLength <= GEOMETRY_CACHE_BYTES) break;
    geometryCache.delete(k);
    geometryCacheBytes -= old.edges.byteLength;
  }
  geometryCache.set(key, g);
  geometryCacheBytes += edges.byteLength;
  return g;
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
export function binCovered(
  data: Float32Array,
  lo: number,
  hi: number,
  n: number,
): { min: number; max: number; lanes: Uint32Array } {
  const g = edgesFor(lo, hi, n);
  const scale = n / f32(hi - lo);
  if (g.windowF32 > 0) {
    // The WASM SIMD kernel where the engine has it (the same bins, eight values at a time)
    const fast = binFixedWasm(data, lo, hi, scale * 2 ** g.shiftF32, g.shiftF32, g.windowF32, g.edges, g.zeroBin);
    if (fast) return { min: signedZero(data, fast.min), max: signedZero(data, fast.max), lanes: fast.lanes };
  }
  if (laneScratch.length < LANES * n) laneScratch = new Uint32Array(LANES * n);
  const lanes = laneScratch.length === LANES * n ? laneScratch : laneScratch.subarray(0, LANES * n);
  lanes.fill(0);
  if (g.window > 0) binLoopFixed(data, lo, hi, scale, g.edges, g.window, lanes);
  else binLoopChecked(data, lo, hi, scale, g.edges, lanes);
  return { min: signedZero(data, extremes[0]!), max: signedZero(data, extremes[1]!), lanes };
}

/**
 * |x| of every value binned into `edges` (numpy's float32 linspace edges, as float64; the |x|
 * histogram of onnxruntime's exact mode, seeded on the final range) by the WASM kernel, in its four
 * lanes (addLanes adds them up); null when the kernel is not here, the edges are not the linspace
 * the kernel would use, or some |x| lies outside them (the caller then bins value by value).
 */
export function binAbsCovered(data: Float32Array, edges: Float64Array): Uint32Array | null {
  const n = edges.length - 1;
  if (n < 1) return null;
  const lo = edges[0]!;
  const hi = edges[n]!;
  const g = edgesFor(lo, hi, n);
  if (g.windowF32 === 0) return null;
  for (let k = 0; k <= n; k++) if (g.edges[k] !== edges[k]) return null;
  const scale = n / f32(hi - lo);
  const fast = binFixedWasm(data, lo, hi, scale * 2 ** g.shiftF32, g.shiftF32, g.windowF32, g.edges, g.zeroBin, true);
  return fast && fast.min >= lo && fast.max <= hi ? fast.lanes : null;
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

export function addLanes(counts: Float64Array, lanes: Uint32Array): void {
  for (let i = 0; i < counts.length; i++) {
    const j = i * LANES;
    counts[i]! += lanes[j]! + lanes[j + 1]! + lanes[j + 2]! + lanes[j + 3]!;
  }
}

warmUpLoops((d) => {
  const edgeValues = Float32Array.from(histogramEdges(-3, 3, 8));
  binInto(new Float64Array(8), edgeValues, -3, 3);
  binInto(new Float64Array(8), d, -3, 3);
  binInto(new Float64Array(8), Float32Array.of(0, 1e-45, -1e-45), -1e-44, 1e-44); // subnormal: every value checked
});
