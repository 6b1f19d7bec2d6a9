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
 * term read from a row of precomputed terms for its width (scoreCandidates), so one logarithm a
 * (start, width) pair rather than one a level of every candidate (scipy sums the same terms pairwise,
 * so candidates that tie to ~1e-15 may order differently: none do in the fixtures).
 */
import type { AbsHistogramState } from '../absHistogram';
import { QuantscopeError } from '../errors';
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
  const divergences = new Float64Array(Math.floor((n - startBin) / stride) + 1);
  scoreCandidates(prefixOf(h.counts), levels, startBin, stride, divergences, 'rows');
  let best = 0;
  for (let c = 1; c < divergences.length; c++) if (divergences[c]! <= divergences[best]!) best = c; // the last minimum
  return { amax: h.edges[startBin + best * stride]!, divergences };
}

export interface Prefix {
  readonly bins: Float64Array;
  /** Σ bins, non-empty bins and Σ b log b over bins [0, k). */
  readonly H: Float64Array;
  readonly Z: Float64Array;
  readonly A: Float64Array;
  /** Math.log(H[n]), taken once for every candidate's score. */
  readonly logTotal: number;
  /** Every count 0 or at least 1 (each level's mean count then at least 1: see ROUGH_BOUND). */
  readonly whole: boolean;
  /** Two rows of n + 1 values the width rows may use instead of fresh ones. */
  readonly rows?: readonly [Float64Array, Float64Array];
}

/**
 * One width's level terms: row[a] = mass·log(mass / non-zeros) of the level over bins [a, a + w) (0 when
 * it holds no non-zero bin), for a in [from, count): the expression the level loop evaluates, so the same bits.
 */
export function widthRow(t: Prefix, w: number, count: number, row: Float64Array, from = 0): void {
  const { H, Z } = t;
  for (let a = from; a < count; a++) {
    const nz = Z[a + w]! - Z[a]!;
    if (nz === 0) {
      row[a] = 0;
      continue;
    }
    const mass = H[a + w]! - H[a]!;
    row[a] = mass * Math.log(mass / nz);
  }
}

/**
 * Every candidate's divergence into `out`. The levels of candidate i are bins [ceil(r i / L),
 * ceil((r + 1) i / L)): with i = w L + k each is w or w + 1 bins wide, so when `byWidth` each level's
 * term is read from the row of its width (widthRow), built once for the candidates that share it (the
 * row of width w + 1 serves candidates w L .. (w + 2) L - 1), instead of a logarithm a level: the same
 * terms summed in the same order (tested bit for bit against the level-by-level loop). `levels` takes
 * each level's logarithm in the level loop (the reference); `rough` adds the rows' terms four at a
 * time (entropyTensorRTFast.ts), and `scale` then receives the magnitude of each score's parts.
 */
export function scoreCandidates(
  t: Prefix,
  levels: number,
  startBin: number,
  stride: number,
  out: Float64Array,
  mode: ScoreMode,
  scale?: Float64Array,
): void {
  const n = t.bins.length;
  // rows for widths w and w + 1, swapped as w grows
  let rowW = t.rows?.[0] ?? new Float64Array(n + 1);
  let rowW1 = t.rows?.[1] ?? new Float64Array(n + 1);
  let rowWidth = -1; // the width rowW holds (rowW1 holds rowWidth + 1)
  for (let c = 0; c < out.length; c++) {
    const i = startBin + c * stride;
    const w = Math.floor(i / levels);
    if (mode !== 'levels' && w >= 1 && w !== rowWidth && !infiniteAt(t, i)) {
      // the rows' levels start below i - w, i < (w + 1) L; the row of width w + 1 also serves the
      // candidates of width w + 1, i < (w + 2) L, so it is built that far and kept for them
      if (w === rowWidth + 1) [rowW, rowW1] = [rowW1, rowW];
      else widthRow(t, w, Math.min((w + 1) * levels, n - w + 1), rowW);
      widthRow(t, w + 1, Math.max(0, Math.min((w + 2) * levels, n - w)), rowW1);
      rowWidth = w;
    }
    out[c] = scoreCandidate(t, levels, i, mode, rowW, rowW1, scale, c);
  }
}

export type ScoreMode = 'rows' | 'levels' | 'rough';

/** Whether candidate i's divergence is infinite: its last bin is empty and p puts the outliers there. */
export function infiniteAt(t: Prefix, i: number): boolean {
  return t.bins[i - 1]! === 0 && t.H[t.bins.length]! - t.H[i]! > 0;
}

/**
 * Candidate i's divergence (scoreCandidates' modes); with `rows` or `rough` and i >= `levels`,
 * `rowW` and `rowW1` must hold widthRow's terms of widths floor(i / levels) and one more over
 * positions [0, i - floor(i / levels)). `scale[c]` receives the magnitude of the score's parts.
 */
export function scoreCandidate(
  t: Prefix,
  levels: number,
  i: number,
  mode: ScoreMode,
  rowW: Float64Array,
  rowW1: Float64Array,
  scale?: Float64Array,
  c = 0,
): number {
  const { H, Z } = t;
  if (infiniteAt(t, i)) {
    if (scale) scale[c] = 0;
    return Infinity; // q is 0 where p holds the outliers
  }
  const outliers = H[t.bins.length]! - H[i]!;
  // Σ p log q: q is the level's mean count over its non-empty bins, constant over them
  let cross = 0;
  const w = Math.floor(i / levels);
  if (mode !== 'levels' && w >= 1) {
    // every level but the last (the one that holds the outliers) from the rows
    // level r ends at ceil((r + 1) i / L) = (r + 1) w + ceil((r + 1) k / L); that ceiling grows by one
    // (the level is w + 1 wide) exactly when (r + 1) k passes its previous value times L
    const k = i - w * levels;
    let a = 0;
    let rk = 0; // (r + 1) k
    let eL = 0; // the previous ceiling, times L
    let r = 0;
    if (mode === 'rough') {
      // four running sums, so that an addition need not wait for the one before: the same terms in
      // another order, within ROUGH_BOUND of the sequential sum (entropyAmaxTensorRTFast re-scores)
      let c1 = 0;
      let c2 = 0;
      let c3 = 0;
      for (; r + 4 <= levels - 1; r += 4) {
        rk += k;
        if (rk > eL) {
          eL += levels;
          cross += rowW1[a]!;
          a += w + 1;
        } else {
          cross += rowW[a]!;
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
      cross += c1 + (c2 + c3);
    }
    for (; r < levels - 1; r++) {
      rk += k;
      if (rk > eL) {
        eL += levels;
        cross += rowW1[a]!;
        a += w + 1;
      } else {
        cross += rowW[a]!;
        a += w;
      }
    }
    const nz = Z[i]! - Z[a]!;
    if (nz !== 0) {
      const mass = H[i]! - H[a]!;
      cross += (mass + outliers) * Math.log(mass / nz);
    }
  } else {
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
          // p's mass over the level: its bins, plus the outliers if the level holds the last bin (b = i)
          cross += (mass + (b === i ? outliers : 0)) * Math.log(mass / nz);
        }
        Ha = Hb;
        Za = Zb;
      }
      a = b;
    }
  }
  return divergenceOf(t, i, cross, scale, c);
}

/**
 * KL(p || q) of candidate i (finite) from its Σ p log q, `cross`: Σ p log p less it, each normalised
 * (p by the total, q by H[i]); `scale[c]` receives the magnitude of its parts.
 */
export function divergenceOf(t: Prefix, i: number, cross: number, scale?: Float64Array, c = 0): number {
  const { bins, H, A } = t;
  const total = H[bins.length]!;
  const outliers = total - H[i]!;
  const pLast = bins[i - 1]! + outliers;
  // Σ p log p over p's positions, the last one with its outliers
  const self = A[i - 1]! + (pLast > 0 ? pLast * Math.log(pLast) : 0);
  const sq = H[i]!;
  if (scale)
    scale[c] = Math.abs(self / total) + Math.abs(t.logTotal) + Math.abs(cross / total) + Math.abs(Math.log(sq));
  return self / total - t.logTotal - cross / total + Math.log(sq);
}

/** The divergences with every level's logarithm taken in the level loop: the reference the width rows are tested against. */
export function divergencesTensorRTByLevel(h: AbsHistogramState, opts: TensorRTEntropyOptions = {}): Float64Array {
  const { numBits = 8, unsigned = false, startBin = 128, stride = 1 } = opts;
  const t = prefixOf(h.counts);
  const out = new Float64Array(Math.floor((h.counts.length - startBin) / stride) + 1);
  scoreCandidates(t, 2 ** (numBits - 1 + (unsigned ? 1 : 0)), startBin, stride, out, 'levels');
  return out;
}

/**
 * The prefix sums of `counts`; in `scratch` (at least 6 (n + 1) values, reused by the next call) when
 * given, else in fresh arrays. scoreCandidates takes its two width rows from the scratch too.
 */
export function prefixOf(counts: ArrayLike<number>, scratch?: Float64Array): Prefix {
  const n = counts.length;
  const part = (k: number) => (scratch ? scratch.subarray(k * (n + 1), (k + 1) * (n + 1)) : new Float64Array(n + 1));
  const bins = part(0); // a copy (the first bin is overwritten below)
  let whole = true;
  for (let k = 0; k < n; k++) {
    const c = counts[k]!;
    bins[k] = c;
    if (c !== 0 && !(c >= 1)) whole = false;
  }
  if (n > 1) bins[0] = bins[1]!;
  const H = part(1);
  const Z = part(2);
  const A = part(3);
  H[0] = Z[0] = A[0] = 0;
  for (let k = 0; k < n; k++) {
    const b = bins[k]!;
    H[k + 1] = H[k]! + b;
    Z[k + 1] = Z[k]! + (b !== 0 ? 1 : 0);
    A[k + 1] = A[k]! + (b > 0 ? b * logCount(b) : 0);
  }
  const logTotal = Math.log(H[n]!);
  return { bins: bins.subarray(0, n), H, Z, A, logTotal, whole, rows: scratch ? [part(4), part(5)] : undefined };
}
