/**
 * The fast entropy pass's per-candidate terms (see entropyFast.ts): prefix sums over the histogram,
 * a candidate's slice, Σ p' log p' from the series, and its runs' q levels and p' masses.
 */
import { logCount } from './logTable';

export const EPS = 0.0001;
export const LOG_EPS = Math.log(EPS);

/** x log x, with 0 log 0 = 0. */
function xlogx(x: number): number {
  return x > 0 ? x * Math.log(x) : 0;
}

/** Prefix sums over the histogram: counts (H), non-zero bins (Z), and the p' log p' series terms. */
export interface Tables {
  readonly hist: Float64Array;
  readonly H: Float64Array;
  readonly Z: Float64Array;
  readonly A: Float64Array;
  readonly L: Float64Array;
  readonly R1: Float64Array;
  readonly R2: Float64Array;
  readonly R3: Float64Array;
  /** Σ counts, and its logarithm (every candidate's score uses it). */
  readonly total: number;
  readonly logTotal: number;
}

/** One buffer the tables of every search share (they live only while one histogram is scored). */
let tableScratch = new Float64Array(0);

/**
 * The tables of `hist`, in a buffer reused by the next call (searches run one at a time, and no
 * table outlives its search); null when a non-zero count is below 1.
 */
export function tablesOf(hist: Float64Array): Tables | null {
  const n = hist.length;
  const size = 7 * (n + 1);
  if (tableScratch.length < size) tableScratch = new Float64Array(size);
  const row = (k: number) => tableScratch.subarray(k * (n + 1), (k + 1) * (n + 1));
  const H = row(0);
  const Z = row(1);
  const A = row(2);
  const L = row(3);
  const R1 = row(4);
  const R2 = row(5);
  const R3 = row(6);
  H[0] = Z[0] = A[0] = L[0] = R1[0] = R2[0] = R3[0] = 0;
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
  const total = H[n]!;
  return { hist, H, Z, A, L, R1, R2, R3, total, logTotal: Math.log(total) };
}

/** One candidate's slice [start, end) and p's ends (with the outliers folded in). */
export interface Slice {
  start: number;
  end: number;
  len: number;
  leftOut: number;
  rightOut: number;
  first: number;
  lastH: number;
  p0: number;
  pl: number;
  /** p's smoothing: eps·zeros/non-zeros. */
  e: number;
  merged: number;
}

export function emptySlice(): Slice {
  return { start: 0, end: 0, len: 0, leftOut: 0, rightOut: 0, first: 0, lastH: 0, p0: 0, pl: 0, e: 0, merged: 0 };
}

/**
 * Candidate i's slice into `s` (one object reused for every candidate: the search scores ~1000 a
 * histogram); false when p is all zeros.
 */
export function sliceOf(t: Tables, i: number, nq: number, s: Slice): boolean {
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
  if (nzp === 0 || total === 0) return false;
  s.start = start;
  s.end = end;
  s.len = len;
  s.leftOut = leftOut;
  s.rightOut = rightOut;
  s.first = first;
  s.lastH = lastH;
  s.p0 = p0;
  s.pl = pl;
  s.e = (EPS * zp) / nzp;
  s.merged = Math.floor(len / nq);
  return true;
}

/** Σ p' log p' over the slice. */
export function selfTerm(t: Tables, s: Slice): number {
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
export function remainderCross(t: Tables, s: Slice, nq: number): number {
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
export function runOf(t: Tables, s: Slice, r: number, nq: number, run: Float64Array): void {
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
