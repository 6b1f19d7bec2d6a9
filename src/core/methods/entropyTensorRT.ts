/**
 * TensorRT's entropy calibration, as NVIDIA's pytorch-quantization computes it
 * (calib/histogram.py `_compute_amax_entropy`, TensorRT 8.6), on a histogram of |x|:
 *  - the first bin takes the second's count (its zeros would dominate);
 *  - for every candidate i from `startBin` (128) to the bin count: p = bins[0, i) with the outliers
 *    bins[i:] added to its last bin; q = bins[0, i) merged into 2^(bits-1) levels (2^bits when
 *    unsigned) by floor(j * levels / i), each level's mass spread evenly over its non-empty bins;
 *  - KL(p || q) after normalising both (scipy.stats.entropy; infinite when q is 0 where p is not);
 *  - amax = edges[i] of the last candidate with the least divergence.
 * Each candidate is scored in O(levels) from prefix sums of h and h log h, in float64, each level's
 * logarithm computed once for all the candidates that share it (scipy sums the
 * same terms pairwise, so candidates that tie to ~1e-15 may order differently: none do in the fixtures).
 */
import type { AbsHistogramState } from '../absHistogram';
import { QuantscopeError } from '../errors';
import { f32 } from '../rounding';
import type { Range } from './percentile';
import { logCount } from './logTable';

export interface TensorRTEntropyOptions {
  readonly numBits?: number;
  readonly unsigned?: boolean;
  readonly startBin?: number;
  readonly stride?: number;
}

export interface TensorRTEntropyResult {
  readonly amax: number;
  /** KL divergence per candidate i = startBin + k * stride. */
  readonly divergences: Float64Array;
}

export function entropyAmaxTensorRT(h: AbsHistogramState, opts: TensorRTEntropyOptions = {}): TensorRTEntropyResult {
  const { numBits = 8, unsigned = false, startBin = 128, stride = 1 } = opts;
  const n = h.counts.length;
  if (n === 0 || h.total === 0) throw new QuantscopeError('NO_STATISTICS', 'the |x| histogram is empty');
  if (startBin > n)
    throw new QuantscopeError(
      'BAD_RANGE',
      `the |x| histogram has ${n} bins: fewer than the first candidate, bin ${startBin}`,
    );
  const levels = 2 ** (numBits - 1 + (unsigned ? 1 : 0));
  const bins = Float64Array.from(h.counts);
  if (n > 1) bins[0] = bins[1]!;
  const H = new Float64Array(n + 1);
  const Z = new Float64Array(n + 1);
  const A = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) {
    const b = bins[k]!;
    H[k + 1] = H[k]! + b;
    Z[k + 1] = Z[k]! + (b !== 0 ? 1 : 0);
    A[k + 1] = A[k]! + (b > 0 ? b * logCount(b) : 0);
  }
  const total = H[n]!;
  // A level's log(mass / non-zeros) depends only on its bins [a, b): about n·(n/levels) distinct
  // levels against (n - startBin)·levels terms, so each is computed once (the same expression, so the
  // same bits) and kept, keyed by (a, b - a).
  const keyWidth = Math.ceil(n / levels) + 2;
  const logQ = new Float64Array((n + 1) * keyWidth).fill(NaN);
  const divergences = new Float64Array(Math.floor((n - startBin) / stride) + 1);
  for (let c = 0; c < divergences.length; c++) {
    const i = startBin + c * stride;
    const outliers = total - H[i]!;
    const last = bins[i - 1]!;
    const pLast = last + outliers;
    if (pLast > 0 && last === 0) {
      divergences[c] = Infinity; // q is 0 where p holds the outliers
      continue;
    }
    // Σ p log p over p's positions, the last one with its outliers
    const self = A[i - 1]! + (pLast > 0 ? pLast * Math.log(pLast) : 0);
    // Σ p log q: q is the level's mean count over its non-empty bins, constant over them
    let cross = 0;
    // bins j with floor(j * levels / i) = r: j in [ceil(r i / levels), ceil((r + 1) i / levels)), so
    // each level starts where the previous one ends
    let a = 0;
    let Ha = 0; // H[a], Z[a]: the previous level's end
    let Za = 0;
    for (let r = 0; r < levels; r++) {
      const b = Math.ceil(((r + 1) * i) / levels);
      if (b > a) {
        const Hb = H[b]!;
        const Zb = Z[b]!;
        const nz = Zb - Za;
        if (nz !== 0) {
          const mass = Hb - Ha;
          const key = a * keyWidth + (b - a);
          let lq = logQ[key]!;
          if (lq !== lq) lq = logQ[key] = Math.log(mass / nz);
          // p's mass over the level: its bins, plus the outliers if the level holds the last bin (b = i)
          cross += (mass + (b === i ? outliers : 0)) * lq;
        }
        Ha = Hb;
        Za = Zb;
      }
      a = b;
    }
    const sq = H[i]!;
    divergences[c] = self / total - Math.log(total) - cross / total + Math.log(sq);
  }
  let best = 0;
  for (let c = 1; c < divergences.length; c++) if (divergences[c]! <= divergences[best]!) best = c; // the last minimum
  return { amax: h.edges[startBin + best * stride]!, divergences };
}

/** The symmetric range TensorRT's amax gives, each side clamped to the data (an all-positive tensor keeps its min). */
export function entropyRangeTensorRT(h: AbsHistogramState, opts: TensorRTEntropyOptions = {}): Range {
  const amax = f32(entropyAmaxTensorRT(h, opts).amax);
  return { rmin: Math.max(-amax, h.min), rmax: Math.min(amax, h.max) };
}
