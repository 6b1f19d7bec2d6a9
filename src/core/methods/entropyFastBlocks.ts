/**
 * The fast entropy pass's block sums (see entropyFast.ts): the interior runs of the candidates sharing
 * one run width, read from strided prefix sums, with log(v - eq) expanded as a series in eq.
 */
import { EPS, LOG_EPS, remainderCross, runOf, selfTerm, type Slice, type Tables } from './entropyFastTables';
import { blockSumsWasm } from './entropyBlocksKernel';
import { logCount } from './logTable';

/** Largest eq for which the expansion of log(v - eq) is tried. */
const MAX_SERIES_EQ = 0.01;
/** Largest truncation bound of the expansion, relative to the histogram's mass. */
const MAX_SERIES_ERROR = 2e-11;

/**
 * Block sums for the candidates that share one run width m: for every block [a, a + m) of the
 * positions their interior runs cover, the level v = trunc(mass / non-zeros) and the terms below,
 * summed in strided prefix rows (row j + m = row j + block at lowPos + j), so the blocks at
 * s, s + m, ..., s + k·m sum in one subtraction of two rows.
 * Fields a row holds, with u = mass + eps·m (a run's p' mass is u - (e + eps)·non-zeros, e known
 * only per candidate), for blocks with v > 0 (G_0 = log v, G_k = v^-k / k): u·G_k for k <= K_u,
 * non-zeros·G_k for k <= K_nz, the blocks with v = 0, and Σ v. Every non-zero count is >= 1
 * (tablesOf refuses fractions), so v = 0 only in an empty block, whose p' mass is eps·m: no fields for
 * its mass. The full layout (K_u = K_nz = 3) serves any histogram; the short one (K_u = 2, K_nz = 1,
 * 7 fields instead of 10) serves a histogram of at least SHORT_MIN_TOTAL counts, where the terms it
 * leaves out stay far below the series bound for the eq of nearly every candidate (blockedScore checks
 * each candidate's bound all the same, and a candidate over it is summed run by run).
 */
const FULL = 10 as const;
const SHORT = 7 as const;
export const SHORT_MIN_TOTAL = 1e5;

let blockScratch = new Float64Array(0);

export interface BlockSums {
  readonly m: number;
  readonly lowPos: number;
  readonly rows: Float64Array;
  /** 10 (K_u = K_nz = 3) or 7 (K_u = 2, K_nz = 1). */
  readonly fields: number;
}

export function buildBlockSums(t: Tables, m: number, lowPos: number, highPos: number): BlockSums {
  const short = t.total >= SHORT_MIN_TOTAL;
  const F = short ? SHORT : FULL;
  const W = highPos - lowPos;
  const epsM = EPS * m;
  // the same rows from the WASM SIMD kernel where the engine has it (entropyBlocksKernel.wat)
  const fromKernel = blockSumsWasm(t, m, lowPos, highPos, F, epsM);
  if (fromKernel) return { m, lowPos, rows: fromKernel, fields: F };
  const size = (W + 1) * F;
  if (blockScratch.length < size) blockScratch = new Float64Array(Math.max(size, blockScratch.length * 2));
  const rows = blockScratch;
  rows.fill(0, 0, m * F);
  const { H, Z } = t;
  // one statement a field (a loop over the fields measured 2x slower)
  if (short) {
    for (let j = 0, from = 0, to = m * SHORT; j + m <= W; j++, from += SHORT, to += SHORT) {
      const a = lowPos + j;
      const nz = Z[a + m]! - Z[a]!;
      if (nz === 0) {
        rows[to] = rows[from]!;
        rows[to + 1] = rows[from + 1]!;
        rows[to + 2] = rows[from + 2]!;
        rows[to + 3] = rows[from + 3]!;
        rows[to + 4] = rows[from + 4]!;
        rows[to + 5] = rows[from + 5]! + 1;
        rows[to + 6] = rows[from + 6]!;
        continue;
      }
      const mass = H[a + m]! - H[a]!;
      const v = Math.trunc(mass / nz); // >= 1: every non-zero count is >= 1
      const g1 = 1 / v;
      const g0 = logCount(v);
      const u = mass + epsM;
      rows[to] = rows[from]! + u * g0;
      rows[to + 1] = rows[from + 1]! + u * g1;
      rows[to + 2] = rows[from + 2]! + u * ((g1 * g1) / 2);
      rows[to + 3] = rows[from + 3]! + nz * g0;
      rows[to + 4] = rows[from + 4]! + nz * g1;
      rows[to + 5] = rows[from + 5]!;
      rows[to + 6] = rows[from + 6]! + v;
    }
    return { m, lowPos, rows, fields: SHORT };
  }
  for (let j = 0; j + m <= W; j++) {
    const a = lowPos + j;
    const nz = Z[a + m]! - Z[a]!;
    const mass = H[a + m]! - H[a]!;
    const v = nz ? Math.trunc(mass / nz) : 0;
    const from = j * FULL;
    const to = from + m * FULL;
    let g0 = 0;
    let g1 = 0;
    let g2 = 0;
    let g3 = 0;
    let zBlocks = 0;
    if (v > 0) {
      g1 = 1 / v;
      g0 = logCount(v);
      const i2 = g1 * g1;
      g2 = i2 / 2;
      g3 = (i2 * g1) / 3;
    } else {
      zBlocks = 1;
    }
    const vm = v > 0 ? mass + epsM : 0;
    const vn = v > 0 ? nz : 0;
    rows[to] = rows[from]! + vm * g0;
    rows[to + 1] = rows[from + 1]! + vm * g1;
    rows[to + 2] = rows[from + 2]! + vm * g2;
    rows[to + 3] = rows[from + 3]! + vm * g3;
    rows[to + 4] = rows[from + 4]! + vn * g0;
    rows[to + 5] = rows[from + 5]! + vn * g1;
    rows[to + 6] = rows[from + 6]! + vn * g2;
    rows[to + 7] = rows[from + 7]! + vn * g3;
    rows[to + 8] = rows[from + 8]! + zBlocks;
    rows[to + 9] = rows[from + 9]! + v;
  }
  return { m, lowPos, rows, fields: FULL };
}

/** The candidate's score with the interior runs read from block sums; null when eq is too large for the series. */
export function blockedScore(t: Tables, s: Slice, nq: number, g: BlockSums, edge: Float64Array): number | null {
  const total = t.H[t.hist.length]!;
  const m = s.merged;
  const rows = g.rows;
  const F = g.fields;
  const lo = (s.start + m - g.lowPos) * F;
  const hi = (s.start + (nq - 1) * m - g.lowPos) * F;
  const zeroBlocks = rows[hi + F - 2]! - rows[lo + F - 2]!;
  let zq = s.len - nq * m + zeroBlocks * m;
  let sq = (rows[hi + F - 1]! - rows[lo + F - 1]!) * m;
  // the first and last runs, with the outliers
  runOf(t, s, 0, nq, edge);
  const v0 = edge[0]!;
  const w0 = edge[1]!;
  runOf(t, s, nq - 1, nq, edge);
  const vl = edge[0]!;
  const wl = edge[1]!;
  if (v0 === 0) zq += m;
  if (vl === 0) zq += m;
  sq += (v0 + vl) * m;
  const nzq = s.len - zq;
  if (nzq === 0) return Infinity;
  const eq = (EPS * zq) / nzq;
  if (eq > MAX_SERIES_EQ) return null;
  // Σ w·log(v - eq) over the interior blocks with v > 0, w = (mass + eps·m) - (e + eps)·non-zeros
  const c = s.e + EPS;
  let cross = 0;
  if (F === FULL) {
    let pow = 1; // eq^k
    let term = 0;
    for (let k = 0; k < 4; k++) {
      const mass = rows[hi + k]! - rows[lo + k]!;
      const nz = rows[hi + 4 + k]! - rows[lo + 4 + k]!;
      term = mass - c * nz;
      cross += k === 0 ? term : -pow * term;
      pow *= eq;
    }
    // the terms past k = 3: Σ w (eq/v)^k / k <= eq⁴/4 Σ w/v⁴ / (1 - eq) <= (3/4) eq⁴ Σ w/(3v³) / (1 - eq), v >= 1
    if ((0.75 * pow * Math.abs(term)) / (1 - eq) > MAX_SERIES_ERROR * total) return null;
  } else {
    // Σ w log v - eq Σ w/v - eq² Σ u/(2v²), less what the short layout leaves out, which (v >= 1,
    // 0 <= w <= u) is at most eq³/3 Σ u/v² / (1 - eq) = (2/3) eq³ u2 / (1 - eq) for u's terms past
    // k = 2, plus c Σ_{k>=2} eq^k/k Σ nz/v^k <= c eq² n1 / (2 (1 - eq)) for the non-zeros' past k = 1
    const u2 = rows[hi + 2]! - rows[lo + 2]!;
    const n1 = rows[hi + 4]! - rows[lo + 4]!;
    if (((2 / 3) * eq * eq * eq * u2 + (c * eq * eq * n1) / 2) / (1 - eq) > MAX_SERIES_ERROR * total) return null;
    cross = rows[hi]! - rows[lo]! - c * (rows[hi + 3]! - rows[lo + 3]!);
    cross -= eq * (rows[hi + 1]! - rows[lo + 1]! - c * n1);
    cross -= eq * eq * u2;
  }
  cross += EPS * m * zeroBlocks * LOG_EPS;
  cross += w0 * (v0 ? Math.log(v0 - eq) : LOG_EPS) + wl * (vl ? Math.log(vl - eq) : LOG_EPS);
  cross += remainderCross(t, s, nq);
  return selfTerm(t, s) / total - t.logTotal - cross / total + Math.log(sq);
}
