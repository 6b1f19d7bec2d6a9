/**
 * The quantization grid the weight-rounding algorithms round onto: one scale and zero point per
 * group of columns of a [rows, cols] weight (per output channel when a group spans the row), computed
 * by the same rules as round-to-nearest export (core/blockwise.ts `qdq`: onnxruntime's compute_scale_zp
 * over [min(w, 0), max(w, 0)]; symmetric int4 on the full [-8, 7] with scale 2·max|w|/15, which is
 * also IST-DASLab/gptq quant.py's symmetric grid: zero (maxq+1)/2 on [0, maxq]).
 */
import { DTYPES, type IntDType } from '../dtype';
import { computeScaleZeroPoint, quantRange } from '../qparams';

export interface GridOptions {
  readonly dtype: IntDType;
  readonly symmetric: boolean;
}

/**
 * Columns are grouped in segments (a MatMul's whole row; a Conv's input channels at one kernel
 * position, see core/algorithms/layout.ts) and each segment into groups of `groupSize` columns
 * (the last one shorter). groupSize null: one group a row.
 */
export interface Grouping {
  readonly groupSize: number | null;
  /** Columns per segment (cols when absent). */
  readonly segment?: number;
}

export function groupsPerRow(cols: number, g: Grouping): number {
  if (g.groupSize === null) return 1;
  const seg = g.segment ?? cols;
  return (cols / seg) * Math.ceil(seg / g.groupSize);
}

/** The group of column c, and whether c starts it. */
export function groupOf(c: number, cols: number, g: Grouping): number {
  if (g.groupSize === null) return 0;
  const seg = g.segment ?? cols;
  const s = Math.floor(c / seg);
  return s * Math.ceil(seg / g.groupSize) + Math.floor((c - s * seg) / g.groupSize);
}

/** The columns [start, end) of group k. */
export function groupColumns(k: number, cols: number, g: Grouping): [number, number] {
  if (g.groupSize === null) return [0, cols];
  const seg = g.segment ?? cols;
  const per = Math.ceil(seg / g.groupSize);
  const s = Math.floor(k / per);
  const start = s * seg + (k - s * per) * g.groupSize;
  return [start, Math.min(s * seg + seg, start + g.groupSize)];
}

/** Scale and zero point for the values of row r in columns [c0, c1) of a row-major matrix. */
export function gridParams(
  w: ArrayLike<number>,
  cols: number,
  r: number,
  c0: number,
  c1: number,
  o: GridOptions,
): { scale: number; zeroPoint: number } {
  let lo = 0;
  let hi = 0;
  for (let c = c0; c < c1; c++) {
    const v = w[r * cols + c]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return computeScaleZeroPoint(lo, hi, quantRange(o.dtype, { symmetric: o.symmetric }), o.symmetric);
}

export function dtypeBounds(dtype: IntDType): { tmin: number; tmax: number } {
  return { tmin: DTYPES[dtype].min, tmax: DTYPES[dtype].max };
}
