/**
 * The rough pass of TensorRT's pruned entropy search (entropyTensorRTFast.ts): a candidate's level terms
 * summed four at a time from the width rows, built lazily, with the partial lower bound checked every
 * CHUNK levels. (The same four-way unrolled step as scoreCandidates' rough mode in entropyTensorRT.ts:
 * a shared helper would return four sums and the level position a step, and this loop is the search's
 * cost.)
 */
import { divergenceOf, widthRow, type Prefix } from './entropyTensorRT';

/** Levels summed between two looks at roughPruned's bound (8 to 32 measured alike on det). */
const CHUNK = 16;

/** The width rows of one width w (rowW) and w + 1 (rowW1), built over [0, extW) and [0, extW1). */
export interface LazyRows {
  w: number;
  rowW: Float64Array;
  rowW1: Float64Array;
  extW: number;
  extW1: number;
}

/** Both rows built over at least [0, need) (as far as they go: a level of w bins starts at n - w at most). */
export function extendRows(t: Prefix, rows: LazyRows, need: number): void {
  const n = t.bins.length;
  if (rows.extW < need) {
    const to = Math.min(need, n - rows.w + 1);
    widthRow(t, rows.w, to, rows.rowW, rows.extW);
    rows.extW = to;
  }
  if (rows.extW1 < need) {
    const to = Math.min(need, n - rows.w);
    widthRow(t, rows.w + 1, to, rows.rowW1, rows.extW1);
    rows.extW1 = to;
  }
}

/**
 * Candidate i's rough score (finite, i >= L, rows.w = floor(i / L)), its level terms summed four at a
 * time as scoreCandidate's `rough` mode does, a chunk of levels at a time; NaN as soon as the levels
 * summed prove it above `upper`. By the chain rule over clipBound's groups with the levels before the
 * last taken one by one (Cover & Thomas, Theorem 2.5.3), the divergence is clipBound plus each level's
 * own share, (Σ b log b - m_r log(m_r / nz_r)) / T >= 0 (q uniform over its nz_r non-empty bins): after
 * levels 0..r - 1, ending at a, `floor` (clipBound less the allowance) + (A[a] - Σ row terms) / T is below
 * it. The rows are extended only as far as the levels read reach.
 */
export function roughPruned(
  t: Prefix,
  levels: number,
  i: number,
  rows: LazyRows,
  floor: number,
  upper: number,
  scale: Float64Array,
  c: number,
): number {
  const { H, Z, A } = t;
  const total = H[t.bins.length]!;
  const w = rows.w;
  const k = i - w * levels;
  const { rowW, rowW1 } = rows;
  let a = 0;
  let rk = 0; // (r + 1) k
  let eL = 0; // the previous level end's ceiling, times L
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  for (let r = 0; r < levels - 1;) {
    const end = Math.min(r + CHUNK, levels - 1);
    // level r starts at ceil(r i / L) <= r (w + 1) (i < (w + 1) L)
    extendRows(t, rows, (end - 1) * (w + 1) + 1);
    for (; r + 4 <= end; r += 4) {
      rk += k;
      if (rk > eL) {
        eL += levels;
        c0 += rowW1[a]!;
        a += w + 1;
      } else {
        c0 += rowW[a]!;
        a += w;
      }
      rk += k;
      if (rk > eL) {
        eL += levels;
        c1 += rowW1[a]!;
        a += w + 1;
      } else {
        c1 += rowW[a]!;
        a += w;
      }
      rk += k;
      if (rk > eL) {
        eL += levels;
        c2 += rowW1[a]!;
        a += w + 1;
      } else {
        c2 += rowW[a]!;
        a += w;
      }
      rk += k;
      if (rk > eL) {
        eL += levels;
        c3 += rowW1[a]!;
        a += w + 1;
      } else {
        c3 += rowW[a]!;
        a += w;
      }
    }
    for (; r < end; r++) {
      rk += k;
      if (rk > eL) {
        eL += levels;
        c0 += rowW1[a]!;
        a += w + 1;
      } else {
        c0 += rowW[a]!;
        a += w;
      }
    }
    if (end < levels - 1 && floor + (A[a]! - (c0 + c1 + (c2 + c3))) / total > upper) return NaN;
  }
  let cross = c0 + c1 + (c2 + c3);
  const nz = Z[i]! - Z[a]!;
  if (nz !== 0) {
    const mass = H[i]! - H[a]!;
    cross += (mass + total - H[i]!) * Math.log(mass / nz);
  }
  return divergenceOf(t, i, cross, scale, c);
}
