/**
 * Min/max statistics as a mergeable accumulator (create / update / merge / finalize).
 * NaN and ±Inf are counted, not folded into the range: Quantscope's policy is to name a tensor
 * that produced them and keep it float (never a NaN scale).
 */
import { minMaxWasm } from './histogramKernel';

export interface MinMaxState {
  /** Smallest finite value seen (Infinity when none). */
  readonly min: number;
  /** Largest finite value seen (-Infinity when none). */
  readonly max: number;
  readonly count: number;
  readonly nanCount: number;
  readonly infCount: number;
}

export function createMinMax(): MinMaxState {
  return { min: Infinity, max: -Infinity, count: 0, nanCount: 0, infCount: 0 };
}

/**
 * Math.min(0, -0) is -0, while a `v < min` scan keeps whichever zero came first: when an extreme is
 * zero, return the sign of the data's first zero, so that statistics equal the scalar scan's bit for bit.
 */
export function signedZero(data: Float32Array, v: number): number {
  if (v !== 0) return v;
  for (let k = 0; k < data.length; k++) if (data[k] === 0) return data[k]!;
  return v;
}

/** The last loop's min and max: the hot loops write here rather than allocate a result. */
const extremes = new Float64Array(2);

function minMaxLoop(data: Float32Array): void {
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < data.length; k++) {
    const x = data[k]!;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  extremes[0] = min;
  extremes[1] = max;
}

/**
 * A batch's finite min and max in one branch-free pass, or null when it holds NaN or ±Infinity (the
 * caller then counts them with reduceMinMax). Equal to reduceMinMax's min and max otherwise.
 * Math.min/Math.max compile to branch-free code (3x faster here than `if (x < min)`); NaN poisons
 * them, which is how a NaN shows.
 */
export function finiteMinMax(data: Float32Array): { min: number; max: number } | null {
  if (data.length === 0) return { min: Infinity, max: -Infinity };
  // The WASM SIMD kernel where the engine has it (histogramKernel.wat: NaN kept apart, returned as NaN min/max)
  const fast = data.length >= 64 ? minMaxWasm(data) : null;
  if (!fast) minMaxLoop(data);
  const min = fast ? fast.min : extremes[0]!;
  const max = fast ? fast.max : extremes[1]!;
  if (!(min > -Infinity && max < Infinity)) return null;
  return { min: signedZero(data, min), max: signedZero(data, max) };
}

/**
 * Run the hot loops once on small arrays that take every branch, at load: V8 optimizes a long loop
 * while it runs (on-stack replacement), and code optimized before a branch has ever run deoptimizes
 * when it first does, every call. Warmed, the statistics fold runs optimized from its first tensor.
 */
export function warmUpLoops(run: (data: Float32Array) => unknown): void {
  const shapes = [
    Float32Array.of(1, -0, 0, 2.5, -3),
    Float32Array.of(0, NaN, 1),
    Float32Array.of(-Infinity, 1, Infinity),
  ];
  for (let r = 0; r < 3; r++) for (const s of shapes) run(s);
}

warmUpLoops((d) => finiteMinMax(d));

/** One pass over a batch: the finite min/max and the non-finite counts. */
export function reduceMinMax(data: ArrayLike<number>): MinMaxState {
  if (data instanceof Float32Array) {
    const fast = finiteMinMax(data);
    if (fast) return { min: fast.min, max: fast.max, count: data.length, nanCount: 0, infCount: 0 };
  }
  let min = Infinity;
  let max = -Infinity;
  let nanCount = 0;
  let infCount = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) {
      if (v === -Infinity) infCount++;
      else min = v;
    }
    if (v > max) {
      if (v === Infinity) infCount++;
      else max = v;
    }
    if (v !== v) nanCount++;
  }
  return { min, max, count: data.length, nanCount, infCount };
}

/**
 * min |x| over the finite values (Infinity when none): the exact mode's |x| histogram starts there.
 * The WASM kernel's pass where it loads (its min |x| skips NaN); elsewhere Math.min, branch-free, which
 * NaN poisons: a batch with NaN then takes the scalar loop, where NaN compares false.
 */
export function minAbsOf(data: ArrayLike<number>): number {
  const fast = data instanceof Float32Array && data.length >= 64 ? minMaxWasm(data) : null;
  if (fast && fast.minAbs === fast.minAbs) return fast.minAbs;
  let minAbs = Infinity;
  if (!fast) {
    for (let i = 0; i < data.length; i++) minAbs = Math.min(minAbs, Math.abs(data[i]!));
    if (minAbs === minAbs) return minAbs;
  }
  minAbs = Infinity;
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i]!);
    if (a < minAbs) minAbs = a;
  }
  return minAbs;
}

/**
 * reduceMinMax and minAbsOf at once (the exact mode's first pass): one pass of the WASM kernel, which
 * finds min |x| beside min/max, where the batch is finite; the two scans otherwise.
 */
export function reduceMinMaxAbs(data: ArrayLike<number>): { minmax: MinMaxState; minAbs: number } {
  const fast = data instanceof Float32Array && data.length >= 64 ? minMaxWasm(data) : null;
  if (fast && fast.min > -Infinity && fast.max < Infinity) {
    const d = data as Float32Array;
    const minmax = {
      min: signedZero(d, fast.min),
      max: signedZero(d, fast.max),
      count: d.length,
      nanCount: 0,
      infCount: 0,
    };
    return { minmax, minAbs: fast.minAbs };
  }
  return { minmax: reduceMinMax(data), minAbs: minAbsOf(data) };
}

export function mergeMinMax(a: MinMaxState, b: MinMaxState): MinMaxState {
  return {
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    count: a.count + b.count,
    nanCount: a.nanCount + b.nanCount,
    infCount: a.infCount + b.infCount,
  };
}

export function updateMinMax(state: MinMaxState, data: ArrayLike<number>): MinMaxState {
  return mergeMinMax(state, reduceMinMax(data));
}

export interface FinalRange {
  readonly rmin: number;
  readonly rmax: number;
}

/** The calibrated range, or null when nothing finite was seen. */
export function finalizeMinMax(state: MinMaxState): FinalRange | null {
  if (state.min > state.max) return null;
  return { rmin: state.min, rmax: state.max };
}

export function isNonFinite(state: MinMaxState): boolean {
  return state.nanCount + state.infCount > 0;
}
