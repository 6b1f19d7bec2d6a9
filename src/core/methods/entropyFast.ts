/**
 * The first pass of onnxruntime's entropy search (see entropy.ts): every candidate's KL(p || q) in
 * float64, from prefix sums. With p' and q' the smoothed slices and Sp, Sq their sums (smoothing keeps
 * the sums),
 *   KL = (Σ p' log p') / Sp - log Sp - (Σ p' log q') / Sp + log Sq.
 * Σ p' log p' over the interior bins is Σ (h - e) log(h - e) = Σ h log h - e Σ (log h + 1)
 * + e²/2 Σ 1/h + e³/6 Σ 1/h² + e⁴/12 Σ 1/h³ (Taylor; e = eps·zeros/nonzeros < 1 <= h for counts),
 * from prefix sums: O(1) a candidate.
 *
 * q' is constant over each merged run of `m` bins, so Σ p' log q' needs each run's p' mass and q
 * level: O(quantized bins) a candidate when summed run by run (`directCross`), ~120k logarithms for
 * 2048 bins. The runs of candidates i and i + m are the same blocks of m bins shifted by one run,
 * so the interior runs (all but the first and last, which hold the outliers) are sums over a fixed
 * grid of blocks: each block's level v and weights are computed once, and each candidate reads its
 * window of blocks from strided prefix sums (`BlockSums`): O(1) a candidate, ~10x fewer logarithms.
 * The level's log(v - eq) (eq the smoothing of q, known only once the candidate's zeros are counted)
 * is expanded as log v - Σ_k (eq/v)^k / k for k <= 3; the rest, below (3/4)·eq⁴·Σ w/(3v³)/(1 - eq) for
 * v >= 1, is bounded from the k = 3 sum itself, and a candidate whose bound passes 2e-11 of its mass
 * (eq large: q almost all zeros) is summed run by run instead.
 *
 * These scores only choose which candidates are re-scored exactly (entropy.ts, within a margin of
 * 1e-4 relative), so the expansion cannot change the range the search returns.
 */

import { logCount } from './logTable';

const EPS = 0.0001;
const LOG_EPS = Math.log(EPS);
/** Largest eq for which the expansion of log(v - eq) is tried. */
const MAX_SERIES_EQ = 0.01;
/** Largest truncation bound of the expansion, relative to the histogram's mass. */
const MAX_SERIES_ERROR = 2e-11;

/** x log x, with 0 log 0 = 0. */
function xlogx(x: number): number {
  return x > 0 ? x * Math.log(x) : 0;
}

/** Prefix sums over the histogram: counts (H), non-zero bins (Z), and the p' log p' series terms. */
interface Tables {
  readonly hist: Float64Array;
  readonly H: Float64Array;
  readonly Z: Float64Array;
  readonly A: Float64Array;
  readonly L: Float64Array;
  readonly R1: Float64Array;
  readonly R2: Float64Array;
  readonly R3: Float64Array;
}

function tablesOf(hist: Float64Array): Tables | null {
  const n = hist.length;
  const H = new Float64Array(n + 1);
  const Z = new Float64Array(n + 1);
  const A = new Float64Array(n + 1);
  const L = new Float64Array(n + 1);
  const R1 = new Float64Array(n + 1);
  const R2 = new Float64Array(n + 1);
  const R3 = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) {
    const h = hist[k]!;
    H[k + 1] = H[k]! + h;
    if (h !== 0) {
      if (h < 1) return null;
      const lg = logCount(h);
      Z[k + 1] = Z[k]! + 1;
      A[k + 1] = A[k]! + h * lg;
      L[k + 1] = L[k]! + lg + 1;
      R1[k + 1] = R1[k]! + 1 / h;
      R2[k + 1] = R2[k]! + 1 / (h * h);
      R3[k + 1] = R3[k]! + 1 / (h * h * h);
    } else {
      Z[k + 1] = Z[k]!;
      A[k + 1] = A[k]!;
      L[k + 1] = L[k]!;
      R1[k + 1] = R1[k]!;
      R2[k + 1] = R2[k]!;
      R3[k + 1] = R3[k]!;
    }
  }
  return { hist, H, Z, A, L, R1, R2, R3 };
}

/** One candidate's slice [start, end) and p's ends (with the outliers folded in). */
interface Slice {
  readonly start: number;
  readonly end: number;
  readonly len: number;
  readonly leftOut: number;
  readonly rightOut: number;
  readonly first: number;
  readonly lastH: number;
  readonly p0: number;
  readonly pl: number;
  /** p's smoothing: eps·zeros/non-zeros. */
  readonly e: number;
  readonly merged: number;
}

/**
 * Block sums for the candidates that share one run width m: for every block [a, a + m) of the
 * positions their interior runs cover, the level v = trunc(mass / non-zeros) and the terms below,
 * summed in strided prefix rows (row j + m = row j + block at lowPos + j), so the blocks at
 * s, s + m, ..., s + k·m sum in one subtraction of two rows.
 * Fields a row holds, with u = mass + eps·m (a run's p' mass is u - (e + eps)·non-zeros, e known
 * only per candidate), for blocks with v > 0 (G_0 = log v, G_k = v^-k / k): 0..3 u·G_k,
 * 4..7 non-zeros·G_k; 8 the blocks with v = 0; and 9 Σ v. Every non-zero count is >= 1 (tablesOf
 * refuses fractions), so v = 0 only in an empty block, whose p' mass is eps·m: no fields for its mass.
 */
const FIELDS = 10;

let blockScratch = new Float64Array(0);

interface BlockSums {
  readonly m: number;
  readonly lowPos: number;
  readonly rows: Float64Array;
}

function buildBlockSums(t: Tables, m: number, lowPos: number, highPos: number): BlockSums {
  const W = highPos - lowPos;
  const size = (W + 1) * FIELDS;
  if (blockScratch.length < size) blockScratch = new Float64Array(Math.max(size, blockScratch.length * 2));
  const rows = blockScratch;
  rows.fill(0, 0, m * FIELDS);
  const { H, Z } = t;
  const epsM = EPS * m;
  for (let j = 0; j + m <= W; j++) {
    const a = lowPos + j;
    const nz = Z[a + m]! - Z[a]!;
    const mass = H[a + m]! - H[a]!;
    const v = nz ? Math.trunc(mass / nz) : 0;
    const from = j * FIELDS;
    const to = from + m * FIELDS;
    // one statement a field (a loop over the fields measured 2x slower)
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
  return { m, lowPos, rows };
}

function sliceOf(t: Tables, i: number, nq: number): Slice | null {
  const { hist, H, Z } = t;
  const n = hist.length;
  const zero = Math.floor(n / 2);
  const total = H[n]!;
  const start = zero - i;
  const end = Math.min(zero + i + 1, n);
  const len = end - start;
  const leftOut = H[start]!;
  const rightOut = total - H[end]!;
  const first = hist[start]!;
  const lastH = hist[end - 1]!;
  const p0 = first + leftOut;
  const pl = lastH + rightOut;
  // zeros of p over the slice, its ends with their outliers
  const interiorNz = Z[end - 1]! - Z[start + 1]!;
  const zp = len - 2 - interiorNz + (p0 === 0 ? 1 : 0) + (pl === 0 ? 1 : 0);
  const nzp = len - zp;
  if (nzp === 0 || total === 0) return null;
  const e = (EPS * zp) / nzp;
  return { start, end, len, leftOut, rightOut, first, lastH, p0, pl, e, merged: Math.floor(len / nq) };
}

/** Σ p' log p' over the slice. */
function selfTerm(t: Tables, s: Slice): number {
  const { A, L, R1, R2, R3, Z } = t;
  const { start, end, len, e } = s;
  const interiorNz = Z[end - 1]! - Z[start + 1]!;
  const zp = len - 2 - interiorNz + (s.p0 === 0 ? 1 : 0) + (s.pl === 0 ? 1 : 0);
  const e2 = e * e;
  let self = zp * EPS * LOG_EPS;
  if (len > 2) {
    const a = start + 1;
    const b = end - 1;
    self +=
      A[b]! -
      A[a]! -
      e * (L[b]! - L[a]!) +
      (e2 / 2) * (R1[b]! - R1[a]!) +
      ((e2 * e) / 6) * (R2[b]! - R2[a]!) +
      ((e2 * e2) / 12) * (R3[b]! - R3[a]!);
  }
  if (s.p0 !== 0) self += xlogx(s.p0 - e);
  if (s.pl !== 0) self += xlogx(s.pl - e);
  return self;
}

/** Σ p' log q' over the remainder past the last whole run, where q = 0. */
function remainderCross(t: Tables, s: Slice, nq: number): number {
  const { H, Z } = t;
  const remStart = s.start + nq * s.merged;
  if (remStart >= s.end) return 0;
  const nz = Z[s.end]! - Z[remStart]! + (s.pl !== 0 ? 1 : 0) - (s.lastH !== 0 ? 1 : 0);
  return (H[s.end]! - H[remStart]! + s.rightOut - s.e * nz + EPS * (s.end - remStart - nz)) * LOG_EPS;
}

/**
 * Run r of the slice: its q level v (the truncated average of the sliced counts over p's non-zero
 * positions; 0 for an empty run), p's non-zero count and its p' mass, into `run`.
 */
function runOf(t: Tables, s: Slice, r: number, nq: number, run: Float64Array): void {
  const { H, Z } = t;
  const merged = s.merged;
  const a = s.start + r * merged;
  const b = a + merged;
  let nz = Z[b]! - Z[a]!;
  let mass = H[b]! - H[a]!;
  let qb = mass;
  if (r === 0) {
    nz += (s.p0 !== 0 ? 1 : 0) - (s.first !== 0 ? 1 : 0);
    mass += s.leftOut;
  }
  if (r === nq - 1) {
    qb += H[s.end]! - H[b]!;
    if (b === s.end) {
      nz += (s.pl !== 0 ? 1 : 0) - (s.lastH !== 0 ? 1 : 0);
      mass += s.rightOut;
    }
  }
  run[0] = nz ? Math.trunc(qb / nz) : 0;
  run[1] = mass - s.e * nz + EPS * (merged - nz);
}

/** The candidate's score with Σ p' log q' summed run by run: O(quantized bins). */
function directScore(
  t: Tables,
  s: Slice,
  nq: number,
  runV: Float64Array,
  runMass: Float64Array,
  run: Float64Array,
): number {
  const total = t.H[t.hist.length]!;
  let zq = s.len - nq * s.merged; // the remainder past the last whole run has q = 0
  let sq = 0;
  for (let r = 0; r < nq; r++) {
    runOf(t, s, r, nq, run);
    const v = run[0]!;
    if (v === 0) zq += s.merged;
    sq += v * s.merged;
    runV[r] = v;
    runMass[r] = run[1]!;
  }
  const nzq = s.len - zq;
  if (nzq === 0) return Infinity;
  const eq = (EPS * zq) / nzq;
  let cross = remainderCross(t, s, nq);
  for (let r = 0; r < nq; r++) {
    const v = runV[r]!;
    cross += runMass[r]! * (v ? Math.log(v - eq) : LOG_EPS);
  }
  return selfTerm(t, s) / total - Math.log(total) - cross / total + Math.log(sq);
}

/** The candidate's score with the interior runs read from block sums; null when eq is too large for the series. */
function blockedScore(t: Tables, s: Slice, nq: number, g: BlockSums, edge: Float64Array): number | null {
  const total = t.H[t.hist.length]!;
  const m = s.merged;
  const rows = g.rows;
  const lo = (s.start + m - g.lowPos) * FIELDS;
  const hi = (s.start + (nq - 1) * m - g.lowPos) * FIELDS;
  const zeroBlocks = rows[hi + 8]! - rows[lo + 8]!;
  let zq = s.len - nq * m + zeroBlocks * m;
  let sq = (rows[hi + 9]! - rows[lo + 9]!) * m;
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
  cross += EPS * m * zeroBlocks * LOG_EPS;
  cross += w0 * (v0 ? Math.log(v0 - eq) : LOG_EPS) + wl * (vl ? Math.log(vl - eq) : LOG_EPS);
  cross += remainderCross(t, s, nq);
  return selfTerm(t, s) / total - Math.log(total) - cross / total + Math.log(sq);
}

function scoreCandidates(t: Tables, nq: number, blocked: boolean): Float64Array {
  const n = t.hist.length;
  const zero = Math.floor(n / 2);
  const half = Math.floor(nq / 2);
  const out = new Float64Array(Math.max(zero - half + 1, 0));
  const runV = new Float64Array(nq);
  const runMass = new Float64Array(nq);
  const edge = new Float64Array(2);
  const widthOf = (i: number) => Math.floor((Math.min(zero + i + 1, n) - (zero - i)) / nq);
  let group: BlockSums | null = null;
  for (let i = half; i <= zero; i++) {
    const s = sliceOf(t, i, nq);
    if (!s) {
      out[i - half] = Infinity;
      continue;
    }
    let score: number | null = null;
    if (blocked && nq >= 3 && s.merged > 0) {
      if (!group || group.m !== s.merged) {
        // the candidates i..last share this run width: their interior runs cover [lowPos, highPos)
        let last = i;
        while (last < zero && widthOf(last + 1) === s.merged) last++;
        group = buildBlockSums(t, s.merged, zero - last + s.merged, zero - i + (nq - 1) * s.merged);
      }
      score = blockedScore(t, s, nq, group, edge);
    }
    out[i - half] = score ?? directScore(t, s, nq, runV, runMass, edge);
  }
  return out;
}

/**
 * Every candidate's KL(p || q) in float64, interior runs from block sums. Returns null when a
 * non-zero count is below 1 (fractional counts: the series needs h >= 1).
 */
export function fastDivergences(hist: Float64Array, nq: number): Float64Array | null {
  const t = tablesOf(hist);
  return t && scoreCandidates(t, nq, true);
}

/** The same scores with every run summed one by one: the reference the block sums are tested against. */
export function fastDivergencesByRun(hist: Float64Array, nq: number): Float64Array | null {
  const t = tablesOf(hist);
  return t && scoreCandidates(t, nq, false);
}
