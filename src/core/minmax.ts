/**
 * Min/max statistics as a mergeable accumulator (create / update / merge / finalize).
 * NaN and ±Inf are counted, not folded into the range: Quantscope's policy is to name a tensor
 * that produced them and keep it float (never a NaN scale).
 */
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

/** One pass over a batch: the finite min/max and the non-finite counts. */
export function reduceMinMax(data: ArrayLike<number>): MinMaxState {
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
