/**
 * TensorRT's entropy search (entropyTensorRT.ts) the fast way: candidates a lower bound on their
 * divergence proves worse than one already scored are skipped, before any level is summed (clipBound)
 * or after the first levels (roughPruned); the others are scored in a rough pass that sums each
 * candidate's level terms four at a time, then exact re-scores of the candidates the rough pass cannot
 * rule out.
 */
import type { AbsHistogramState } from '../absHistogram';
import { f32 } from '../rounding';
import {
  entropyAmaxTensorRT,
  divergenceOf,
  infiniteAt,
  prefixOf,
  scoreCandidate,
  scoreCandidates,
  widthRow,
  type Prefix,
  type TensorRTEntropyOptions,
} from './entropyTensorRT';
import type { Range } from './percentile';

/**
 * How far a rough score may be from the exact one, over the magnitude of its parts (scoreCandidates'
 * `scale`). With every level's mean count at least 1 each level's term is >= 0, and two orders of
 * adding n >= 0 terms differ by at most 2·γ(n - 1)·Σ terms (γ(n) = n·u / (1 - n·u), u = 2^-53;
 * Higham, Accuracy and Stability of Numerical Algorithms, §4.2): 2.9e-14 of the cross term for 128
 * levels (5.7e-14 for 256, unsigned), and the final four-term expression rounds each part once more.
 * 1e-12 of the parts' magnitudes is above both: a candidate whose rough score is further than that
 * from the least can only be worse than it, exactly too.
 */
export const ROUGH_BOUND = 1e-12;

let scratch = new Float64Array(0);

function scratchOf(size: number): Float64Array {
  if (scratch.length < size) scratch = new Float64Array(size);
  return scratch;
}

/**
 * A lower bound on candidate i's divergence, in O(1) from the prefix sums. Merging positions never
 * increases a KL divergence (the data-processing inequality: Cover & Thomas, Elements of Information
 * Theory, 2nd ed., Theorem 2.8.1 / the log-sum inequality 2.7.1), so KL(p || q) >= KL(P || Q) for the
 * masses P, Q of p and q (each normalised as the search normalises it: p by the total T with the
 * outliers O, q by S = H[i] without them) over three groups of positions:
 *  - the levels before the last, [0, a) with a = i - floor(i / L) (the last level is floor(i / L)
 *    bins wide): p and q hold the same counts there, F = H[a], so P = F / T and Q = F / S;
 *  - the last level but its last bin, [a, i - 1): mass m - b (m = H[i] - H[a], b = the last bin) in
 *    p; in q each of the level's nz non-empty bins holds m / nz, and nz - [b > 0] of them lie here;
 *  - the last bin: b + O in p (the outliers are folded into it), m / nz in q when b > 0, else 0
 *    (infinite: the search scores that candidate Infinity too).
 * It is the clipping cost alone (what the outliers do to p), zero when there are none: it rules out
 * candidates that clip too much, not those whose levels are too coarse. With `logs` false each term
 * P·log(P / Q) is replaced by klTermBelow's lower bound: weaker, but without a logarithm.
 */
export function clipBound(t: Prefix, levels: number, i: number, logs = true): number {
  const { bins, H, Z } = t;
  const total = H[bins.length]!;
  const S = H[i]!;
  const O = total - S;
  const b = bins[i - 1]!;
  if (b === 0 && O > 0) return Infinity;
  const a = i - Math.floor(i / levels);
  const F = H[a]!;
  const m = S - F;
  if (m === 0) return 0; // no outliers (b = 0 and O = 0) and an empty last level: p = q over it
  const nz = Z[i]! - Z[a]!;
  const qBin = m / S / nz; // q's mass a non-empty bin of the last level
  const rest = m - b;
  const pFront = F / total;
  const qFront = F / S;
  const pRest = rest / total;
  const qRest = qBin * (nz - (b > 0 ? 1 : 0));
  const pLast = (b + O) / total;
  if (logs)
    return (
      (F > 0 ? klTerm(pFront, qFront) : 0) +
      (rest > 0 ? klTerm(pRest, qRest) : 0) +
      (b + O > 0 ? klTerm(pLast, qBin) : 0)
    );
  return (
    (F > 0 ? klTermBelow(pFront, qFront) : 0) +
    (rest > 0 ? klTermBelow(pRest, qRest) : 0) +
    (b + O > 0 ? klTermBelow(pLast, qBin) : 0)
  );
}

/** x·log(x / y), x and y > 0. */
function klTerm(x: number, y: number): number {
  return x * Math.log(x / y);
}

/**
 * A lower bound on x·log(x / y) (x, y > 0) without a logarithm, for clipBound to rule out most
 * candidates before it takes any: with z = x / y, log z >= (z - 1/z) / 2 for z <= 1 (equal at 1, and
 * the difference's derivative -(1 - 1/z)^2 / 2 <= 0), and for z > 1 log z = 2 atanh(v) = 2 Σ v^(2k+1) /
 * (2k + 1), v = (z - 1) / (z + 1) in (0, 1), whose first three terms (all positive) stay below it.
 */
function klTermBelow(x: number, y: number): number {
  const z = x / y;
  if (z <= 1) return (x * (z - 1 / z)) / 2;
  const v = (z - 1) / (z + 1);
  const v2 = v * v;
  return 2 * x * v * (1 + v2 * (1 / 3 + v2 / 5));
}

/**
 * How far clipBound's float value (either form) and a candidate's computed score (the level-by-level sum
 * the search re-scores with) may each be from the real values they stand for. A candidate is skipped
 * only when its bound, less this allowance, is above an upper value of the least computed score, so
 * that its own computed score is strictly above that least: it can be neither the minimum nor a tie
 * the last-minimum rule would prefer. With integer counts (T < 2^53, so H and Z are exact) and
 * u = 2^-53 (Higham, Accuracy and Stability of Numerical Algorithms, §2.2 and §4.2; Math.log within
 * one ulp, fdlibm's):
 *  - A[i - 1] sums i - 1 terms b log b >= 0, each within 3u: off by at most (n + 3)·u'·T log T;
 *  - the cross sum adds L terms (mass + O)·log(mass / nz), mass / nz >= 1, each off by at most 4u of
 *    itself plus 2u·(mass + O) (a rounded quotient near 1 moves its log by u absolutely): off by at
 *    most (L + 6)·u'·T·(log T + 1);
 *  - so self / T and cross / T are within (n + L + 9)·u'·(log T + 1), and the last expression's four
 *    parts (each at most log T + 1 in size) and three additions round by at most 8u·(log T + 1) more;
 *  - clipBound: three terms P·log(P / Q) (or its lower bound: at most eight operations), P <= 1 and
 *    P / Q <= T·n, each term at most log T + log n + 1 in size: within 32u·(log T + log n + 1);
 *  - roughPruned's levels' shares, (A[a] - a partial sum of row terms) / T: A[a] and the row terms are
 *    rounded as the score's, so within (n + L + 9)·u'·(log T + 1) again, in any order of summing.
 * Together below 2·(n + L + 64)·u·(log T + log n + 2); the allowance takes 4 times that (~6e-11 for
 * 2048 bins and 1e8 counts, far below the gaps between candidates it decides on).
 */
export function clipAllowance(n: number, levels: number, total: number): number {
  return (n + levels + 64) * 2 ** -50 * (Math.log(total) + Math.log(n) + 2);
}

/**
 * TensorRT's amax (entropyAmaxTensorRT's) from pruned rough scores and exact re-scores. After a few
 * candidates scored exactly (a first U), from the last candidate down, each one whose clipBound, less clipAllowance, is above U (the least upper value of a
 * score so far) is skipped: its computed score is above the least one's, so it is neither the last
 * minimum nor tied with it. The others are scored with their level terms summed four at a time, 16
 * levels at a time, and skipped as soon as the levels summed add enough to the bound (roughPruned: the
 * candidates past the least, whose levels are too coarse), U lowered to rough + ROUGH_BOUND·scale by
 * those scored in full; or exactly, level by level, where a width has too few of them to pay for its
 * rows. Then only those within the rough bound of U are scored exactly (level by level: the same bits
 * as the rows; tested), the last least of them kept, as the exhaustive search does. Fractional counts
 * (a level mean below 1, terms of either sign) take the exhaustive search.
 */
export function entropyAmaxTensorRTFast(h: AbsHistogramState, opts: TensorRTEntropyOptions = {}): number {
  return searchTensorRT(h, opts).amax;
}

export interface TensorRTSearch {
  readonly amax: number;
  /** Candidates, and how many of them a bound ruled out (0 when the exhaustive search ran). */
  readonly candidates: number;
  readonly skipped: number;
}

/** entropyAmaxTensorRTFast's search, with how many candidates it skipped. */
export function searchTensorRT(h: AbsHistogramState, opts: TensorRTEntropyOptions = {}): TensorRTSearch {
  const { numBits = 8, unsigned = false, startBin = 128, stride = 1 } = opts;
  const n = h.counts.length;
  const levels = 2 ** (numBits - 1 + (unsigned ? 1 : 0));
  const count = Math.floor((n - startBin) / stride) + 1;
  // one buffer for the prefix sums, the width rows and the rough scores, reused call after call (the
  // page and the bench range every tensor in turn: fresh arrays each time were ~20 MB of garbage a pass)
  const size = 6 * (n + 1) + 3 * count;
  const t = n > 0 && h.total !== 0 && startBin <= n ? prefixOf(h.counts, scratchOf(size)) : null;
  if (!t?.whole || t.H[n] === 0) {
    // its errors, fractional counts, or all the mass in the first bin (which takes the second's count:
    // every score 0 / 0, and the exhaustive search keeps the first candidate)
    const { amax, divergences } = entropyAmaxTensorRT(h, opts);
    return { amax, candidates: divergences.length, skipped: 0 };
  }
  const rough = scratch.subarray(6 * (n + 1), 6 * (n + 1) + count);
  const scale = scratch.subarray(6 * (n + 1) + count, 6 * (n + 1) + 2 * count);
  const lower = scratch.subarray(6 * (n + 1) + 2 * count, size);
  const [row0, row1] = t.rows!;
  const rows: LazyRows = { w: -1, rowW: row0, rowW1: row1, extW: 0, extW1: 0 };
  const allowance = clipAllowance(n, levels, t.H[n]!);
  // U: the least upper value of a score so far (exact, or rough + ROUGH_BOUND·scale), first from a few
  // candidates spread over the range, so that the widest, scored first, are not all scored in full
  let upper = Infinity;
  const step = Math.max(1, Math.floor(count / SEEDS));
  for (let c = count - 1 - (step >> 1); c >= 0; c -= step)
    upper = Math.min(upper, scoreCandidate(t, levels, startBin + c * stride, 'levels', row0, row1));
  // from the last candidate down, a width at a time, so that the row of width w + 1 serves the
  // candidates of width w too (the wide ones, scored first, most often hold the least)
  let skipped = 0;
  for (let top = count - 1; top >= 0;) {
    const w = Math.floor((startBin + top * stride) / levels);
    let low = top; // the candidates of width w: low..top
    while (low > 0 && Math.floor((startBin + (low - 1) * stride) / levels) === w) low--;
    let alive = 0;
    let iMax = -1; // the largest candidate not ruled out
    for (let c = top; c >= low; c--) {
      const i = startBin + c * stride;
      // without logarithms first: most candidates that clip too much are ruled out by that alone
      lower[c] = clipBound(t, levels, i, false) - allowance;
      if (!(lower[c]! > upper)) lower[c] = clipBound(t, levels, i) - allowance;
      if (lower[c]! > upper) continue;
      alive++;
      if (iMax < 0 && !infiniteAt(t, i)) iMax = i;
    }
    // rows cost a logarithm a position, levels - 1 logarithms each candidate scored level by level (the
    // widest width often holds a single candidate: i = n)
    const rowCost = iMax < 0 ? 0 : (w === rows.w - 1 ? 1 : 2) * (iMax - w);
    const byLevels = w < 1 || alive * (levels - 1) < rowCost;
    if (!byLevels && iMax >= 0 && w !== rows.w) {
      // the row of width w + 1 is the previous width's row of width w when it was w + 1; rows are
      // built as far as the candidates read them (extendRows)
      if (w === rows.w - 1) {
        [rows.rowW, rows.rowW1] = [rows.rowW1, rows.rowW];
        rows.extW1 = rows.extW;
      } else rows.extW1 = 0;
      rows.extW = 0;
      rows.w = w;
    }
    for (let c = top; c >= low; c--) {
      if (lower[c]! > upper) {
        rough[c] = NaN; // ruled out: its computed score is above the least
        skipped++;
        continue;
      }
      const i = startBin + c * stride;
      if (byLevels) {
        // exactly, level by level: no re-score needed (scale -1 says so)
        rough[c] = scoreCandidate(t, levels, i, 'levels', row0, row1);
        scale[c] = -1;
        upper = Math.min(upper, rough[c]!);
      } else {
        const d = infiniteAt(t, i) ? Infinity : roughPruned(t, levels, i, rows, lower[c]!, upper, scale, c);
        rough[c] = d;
        if (Number.isNaN(d)) skipped++;
        else upper = Math.min(upper, d === Infinity ? d : d + ROUGH_BOUND * scale[c]!);
      }
    }
    top = low - 1;
  }
  let best = -1;
  let bestDiv = Infinity;
  for (let c = 0; c < count; c++) {
    const d = rough[c]!;
    if (Number.isNaN(d)) continue;
    const exact = scale[c]! < 0;
    if (d === Infinity ? upper !== Infinity : d - (exact ? 0 : ROUGH_BOUND * scale[c]!) > upper) continue;
    // exactly, level by level (one candidate: i = startBin + c·stride)
    const div = exact ? d : scoreCandidate(t, levels, startBin + c * stride, 'levels', row0, row1);
    if (best < 0 || div <= bestDiv) {
      best = c; // the last minimum
      bestDiv = div;
    }
  }
  return { amax: h.edges[startBin + best * stride]!, candidates: count, skipped };
}

/** Candidates scored exactly before the others, for a first U (2 to 4 measured best on det, ~5% less). */
const SEEDS = 4;

/** Levels summed between two looks at roughPruned's bound (8 to 32 measured alike on det). */
const CHUNK = 16;

/** The width rows of one width w (rowW) and w + 1 (rowW1), built over [0, extW) and [0, extW1). */
interface LazyRows {
  w: number;
  rowW: Float64Array;
  rowW1: Float64Array;
  extW: number;
  extW1: number;
}

/** Both rows built over at least [0, need) (as far as they go: a level of w bins starts at n - w at most). */
function extendRows(t: Prefix, rows: LazyRows, need: number): void {
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
function roughPruned(
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

/** The rough pass's scores and each one's magnitude of parts: to test ROUGH_BOUND against the exact scores. */
export function divergencesTensorRTRough(
  h: AbsHistogramState,
  opts: TensorRTEntropyOptions = {},
): { rough: Float64Array; scale: Float64Array } {
  const { numBits = 8, unsigned = false, startBin = 128, stride = 1 } = opts;
  const count = Math.floor((h.counts.length - startBin) / stride) + 1;
  const rough = new Float64Array(count);
  const scale = new Float64Array(count);
  scoreCandidates(prefixOf(h.counts), 2 ** (numBits - 1 + (unsigned ? 1 : 0)), startBin, stride, rough, 'rough', scale);
  return { rough, scale };
}

/** The symmetric range TensorRT's amax gives, each side clamped to the data (an all-positive tensor keeps its min). */
export function entropyRangeTensorRT(h: AbsHistogramState, opts: TensorRTEntropyOptions = {}): Range {
  const amax = f32(entropyAmaxTensorRTFast(h, opts));
  return { rmin: Math.max(-amax, h.min), rmax: Math.min(amax, h.max) };
}
