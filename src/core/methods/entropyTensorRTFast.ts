/**
 * TensorRT's entropy search (entropyTensorRT.ts) the fast way: a rough pass that sums each candidate's
 * level terms four at a time, then exact re-scores of the candidates the rough pass cannot rule out.
 */
import type { AbsHistogramState } from '../absHistogram';
import { f32 } from '../rounding';
import { entropyAmaxTensorRT, prefixOf, scoreCandidates, type TensorRTEntropyOptions } from './entropyTensorRT';
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

/**
 * TensorRT's amax (entropyAmaxTensorRT's) from a rough pass and exact re-scores: every candidate scored
 * with its level terms summed four at a time, then only those within the rough bound of the least
 * upper estimate scored exactly (level by level: the same bits as the rows; tested), the last least of
 * them kept, as the exhaustive search does. Fractional counts (a level mean below 1, terms of either
 * sign) take the exhaustive search.
 */
export function entropyAmaxTensorRTFast(h: AbsHistogramState, opts: TensorRTEntropyOptions = {}): number {
  const { numBits = 8, unsigned = false, startBin = 128, stride = 1 } = opts;
  const n = h.counts.length;
  let whole = n > 0 && h.total !== 0 && startBin <= n;
  for (let k = 0; k < n && whole; k++) if (h.counts[k]! !== 0 && !(h.counts[k]! >= 1)) whole = false;
  if (!whole) return entropyAmaxTensorRT(h, opts).amax; // its errors, or fractional counts
  const levels = 2 ** (numBits - 1 + (unsigned ? 1 : 0));
  const count = Math.floor((n - startBin) / stride) + 1;
  // one buffer for the prefix sums, the width rows and the rough scores, reused call after call (the
  // page and the bench range every tensor in turn: fresh arrays each time were ~20 MB of garbage a pass)
  const size = 6 * (n + 1) + 2 * count;
  if (scratch.length < size) scratch = new Float64Array(size);
  const t = prefixOf(h.counts, scratch);
  const rough = scratch.subarray(6 * (n + 1), 6 * (n + 1) + count);
  const scale = scratch.subarray(6 * (n + 1) + count, size);
  scoreCandidates(t, levels, startBin, stride, rough, 'rough', scale);
  let upper = Infinity;
  for (let c = 0; c < count; c++) upper = Math.min(upper, rough[c]! + ROUGH_BOUND * scale[c]!);
  let best = -1;
  let bestDiv = Infinity;
  const one = new Float64Array(1);
  for (let c = 0; c < count; c++) {
    const d = rough[c]!;
    if (d === Infinity ? upper !== Infinity : d - ROUGH_BOUND * scale[c]! > upper) continue;
    // exactly, level by level (one candidate: i = startBin + c·stride)
    scoreCandidates(t, levels, startBin + c * stride, 1, one, 'levels');
    if (best < 0 || one[0]! <= bestDiv) {
      best = c; // the last minimum
      bestDiv = one[0]!;
    }
  }
  return h.edges[startBin + best * stride]!;
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
