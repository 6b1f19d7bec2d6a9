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
  infiniteAt,
  prefixOf,
  scoreCandidate,
  scoreCandidates,
  type TensorRTEntropyOptions,
} from './entropyTensorRT';
import type { Range } from './percentile';
import { clipAllowance, clipBound } from './entropyTensorRTBound';
import { roughPruned, type LazyRows } from './entropyTensorRTRough';

export { clipAllowance, clipBound } from './entropyTensorRTBound';

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
    // the comparison first, so that it always runs: most tensors bring one candidate here, and V8
    // deoptimized on the comparison's first use (no type feedback) several times a pass over det
    if (div <= bestDiv || best < 0) {
      best = c; // the last minimum
      bestDiv = div;
    }
  }
  return { amax: h.edges[startBin + best * stride]!, candidates: count, skipped };
}

/** Candidates scored exactly before the others, for a first U (2 to 4 measured best on det, ~5% less). */
const SEEDS = 4;

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
