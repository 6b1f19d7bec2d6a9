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
 *
 * Where WebAssembly SIMD loads, the tables, block sums and candidates' scores run in its kernel
 * (entropyBlocksKernel.wat): the tables and block sums bit for bit the JS's, the scores within 1e-13
 * (the kernel's own logarithm, its bound proven there); the JS below stays the reference and the
 * fallback.
 */
import { blockedScore, buildBlockSums, type BlockSums } from './entropyFastBlocks';
import { scoreWidthWasm, tablesWasm } from './entropyBlocksKernel';
import {
  EPS,
  LOG_EPS,
  remainderCross,
  runOf,
  selfTerm,
  emptySlice,
  sliceOf,
  tablesOf,
  type Slice,
  type Tables,
} from './entropyFastTables';

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
  return selfTerm(t, s) / total - t.logTotal - cross / total + Math.log(sq);
}

/**
 * directScore for a sparse slice: only the interior runs holding a non-zero bin (`nonZero`, the
 * histogram's non-zero bins in order) are read one by one; the empty ones (level 0, p' mass eps·m,
 * log q' = log eps) are counted together. The same terms as directScore's, fewer of them summed one at
 * a time: O(non-zero bins) a candidate instead of O(quantized bins).
 */
function sparseDirectScore(
  t: Tables,
  s: Slice,
  nq: number,
  nonZero: Int32Array,
  runV: Float64Array,
  runMass: Float64Array,
  run: Float64Array,
): number {
  const total = t.H[t.hist.length]!;
  const m = s.merged;
  const from = s.start + m; // the interior runs: [from, to)
  const to = s.start + (nq - 1) * m;
  let zq = s.len - nq * m;
  let sq = 0;
  let used = 0; // runV/runMass entries: the first run, the last, then the non-empty interior ones
  for (const r of [0, nq - 1]) {
    runOf(t, s, r, nq, run);
    if (run[0] === 0) zq += m;
    sq += run[0]! * m;
    runV[used] = run[0]!;
    runMass[used++] = run[1]!;
  }
  // the first non-zero bin at or past `from` (binary search), then run by run
  let lo = 0;
  let hi = nonZero.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (nonZero[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  let filled = 0;
  for (let k = lo; k < nonZero.length && nonZero[k]! < to;) {
    const r = Math.floor((nonZero[k]! - s.start) / m);
    runOf(t, s, r, nq, run);
    sq += run[0]! * m;
    runV[used] = run[0]!;
    runMass[used++] = run[1]!;
    filled++;
    const end = s.start + (r + 1) * m;
    while (k < nonZero.length && nonZero[k]! < end) k++;
  }
  const empty = nq - 2 - filled;
  zq += empty * m;
  const nzq = s.len - zq;
  if (nzq === 0) return Infinity;
  const eq = (EPS * zq) / nzq;
  let cross = remainderCross(t, s, nq) + empty * EPS * m * LOG_EPS;
  for (let r = 0; r < used; r++) {
    const v = runV[r]!;
    cross += runMass[r]! * (v ? Math.log(v - eq) : LOG_EPS);
  }
  return selfTerm(t, s) / total - t.logTotal - cross / total + Math.log(sq);
}

function scoreCandidates(t: Tables, nq: number, blocked: boolean): Float64Array {
  const n = t.hist.length;
  const zero = Math.floor(n / 2);
  const half = Math.floor(nq / 2);
  const out = new Float64Array(Math.max(zero - half + 1, 0));
  const runV = new Float64Array(nq);
  const runMass = new Float64Array(nq);
  const edge = new Float64Array(2);
  const s = emptySlice();
  const widthOf = (i: number) => Math.floor((Math.min(zero + i + 1, n) - (zero - i)) / nq);
  let group: BlockSums | null = null;
  let nonZero: Int32Array | null = null; // the non-zero bins, listed at the first sparse fallback
  for (let i = half; i <= zero; i++) {
    if (!sliceOf(t, i, nq, s)) {
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
      if (score === null && nq >= 3) {
        // the series does not hold (q mostly empty): sum the runs, the non-empty ones alone
        if (!nonZero) nonZero = nonZeroBins(t.hist);
        score = sparseDirectScore(t, s, nq, nonZero, runV, runMass, edge);
      }
    }
    out[i - half] = score ?? directScore(t, s, nq, runV, runMass, edge);
  }
  return out;
}

function nonZeroBins(hist: Float64Array): Int32Array {
  let count = 0;
  for (let j = 0; j < hist.length; j++) if (hist[j] !== 0) count++;
  const out = new Int32Array(count);
  for (let j = 0, k = 0; j < hist.length; j++) if (hist[j] !== 0) out[k++] = j;
  return out;
}

/**
 * scoreCandidates(t, nq, true) with the WASM kernel (entropyBlocksKernel.wat): each run width's block
 * sums, then its candidates' scores in one call (blockedScore's within 1e-13), the few the
 * series does not serve (NaN) scored here as scoreCandidates scores them.
 */
function scoreCandidatesWasm(t: Tables, nq: number): Float64Array {
  const n = t.hist.length;
  const zero = Math.floor(n / 2);
  const half = Math.floor(nq / 2);
  const out = new Float64Array(Math.max(zero - half + 1, 0));
  const widthOf = (i: number) => Math.floor((Math.min(zero + i + 1, n) - (zero - i)) / nq);
  const s = emptySlice();
  const edge = new Float64Array(2);
  let nonZero: Int32Array | null = null;
  let runV: Float64Array | null = null;
  let runMass: Float64Array | null = null;
  for (let i = half; i <= zero;) {
    const m = widthOf(i);
    let last = i;
    while (last < zero && widthOf(last + 1) === m) last++;
    // the rows at a position depend on lowPos alone, so those scoreCandidates reads are these
    const group = buildBlockSums(t, m, zero - last + m, zero - i + (nq - 1) * m);
    if (!scoreWidthWasm(t, group, nq, i, last, out)) out.fill(NaN, i - half, last - half + 1);
    for (let k = i; k <= last; k++) {
      if (!Number.isNaN(out[k - half]!)) continue;
      if (!sliceOf(t, k, nq, s)) {
        out[k - half] = Infinity;
        continue;
      }
      let score = blockedScore(t, s, nq, group, edge);
      if (score === null) {
        nonZero ??= nonZeroBins(t.hist);
        runV ??= new Float64Array(nq);
        runMass ??= new Float64Array(nq);
        score = sparseDirectScore(t, s, nq, nonZero, runV, runMass, edge);
      }
      out[k - half] = score;
    }
    i = last + 1;
  }
  return out;
}

/**
 * Every candidate's KL(p || q) in float64, interior runs from block sums. Returns null when a
 * non-zero count is below 1 (fractional counts: the series needs h >= 1).
 */
export function fastDivergences(hist: Float64Array, nq: number): Float64Array | null {
  if (nq >= 3) {
    // the tables and the scores from the WASM kernel where it loads (undefined where it does not)
    const fromKernel = tablesWasm(hist);
    if (fromKernel !== undefined) return fromKernel && scoreCandidatesWasm(fromKernel, nq);
  }
  const t = tablesOf(hist);
  return t && scoreCandidates(t, nq, true);
}

/** The same scores with every run summed one by one: the reference the block sums are tested against. */
export function fastDivergencesByRun(hist: Float64Array, nq: number): Float64Array | null {
  const t = tablesOf(hist);
  return t && scoreCandidates(t, nq, false);
}
