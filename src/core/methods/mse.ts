/**
 * MSE (L2) range search, the algorithm of PyTorch's HistogramObserver (_non_linear_param_search,
 * after caffe2's NormMinimization::NonlinearQuantizationParamsSearch), run on Quantscope's value
 * histogram: cut the histogram from whichever side currently has more mass beyond the next quantile
 * step (1e-5), estimate the L2 error of mapping the kept bins onto `dstBins` quantization bins
 * (values uniform within each bin), and stop as soon as the error grows. Values outside the kept
 * range count as clipped to its ends. The search loop is shared with the exact HistogramObserver
 * (core/torchHistogram.ts), which runs it on PyTorch's own histogram in PyTorch's float32 arithmetic.
 */
import type { HistogramState } from '../histogram';
import { histogramRange } from '../histogram';
import type { Range } from './percentile';
import { subtractUntil } from './repeatedSubtraction';

/** ∫ x² over [begin, end], times a density. */
function norm(begin: number, end: number, density: number): number {
  return (density * (end * end * end - begin * begin * begin)) / 3;
}

/** L2 error of quantizing bins [startBin, endBin] onto dstBins levels (caffe2's GetNorm-based estimate). */
export function quantizationError(
  counts: Float64Array,
  startBin: number,
  endBin: number,
  binWidth: number,
  dstBins: number,
): number {
  const dstWidth = (binWidth * (endBin - startBin + 1)) / dstBins;
  if (dstWidth === 0) return 0;
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += binTerms(counts[i]!, i, startBin, binWidth, dstWidth, dstBins);
  return total;
}

/**
 * quantizationError's integral with one division-free term a bin: the integral of density·(x - c)²
 * (c the centre of the destination bin x falls in; the first and last take everything beyond them),
 * destination bin by destination bin. A source bin wholly inside one destination bin contributes
 * c_i·w²·((i - t)² + 1/12) (its mass, centred at bin i, about the destination centre at bin position t;
 * w the bin width: ∫ x² over a bin of width w about its centre x_i is w·(x_i² + w²/12)); the source bins
 * a destination boundary cuts (boundary d sits at bin startBin + d·K/dstBins, K the kept bins, found
 * in integers) take their two parts' integrals in closed form, or quantizationError's own per-bin
 * terms where destination bins are under a bin wide (several boundaries in one bin). Float64
 * throughout: it equals quantizationError up to rounding (tested), about 2.5x faster (no division or
 * floor a bin: 2048 bins, ~15 -> ~6 µs a call, measured back to back on this 2-core machine).
 */
export function quantizationErrorByRuns(
  counts: Float64Array,
  startBin: number,
  endBin: number,
  binWidth: number,
  dstBins: number,
): number {
  const n = counts.length;
  const K = endBin - startBin + 1;
  const dstWidth = (binWidth * K) / dstBins;
  if (dstWidth === 0) return 0;
  const w2 = binWidth * binWidth;
  const half = dstWidth / 2;
  const halfCubes = 2 * half * half * half;
  // boundary d (between destination bins d - 1 and d) at bin startBin + q + r / dstBins, stepped in integers
  const stepQ = Math.floor(K / dstBins);
  const stepR = K - stepQ * dstBins;
  let q = 0;
  let r = 0;
  let total = 0;
  let from = 0; // the first bin not yet counted
  for (let d = 1; d <= dstBins; d++) {
    q += stepQ;
    r += stepR;
    if (r >= dstBins) {
      q++;
      r -= dstBins;
    }
    const edge = d === dstBins ? n : Math.min(n, startBin + q); // bins wholly below it: [from, edge)
    if (edge > from) {
      // destination bin d - 1's centre, in bins: startBin - 1/2 + (d - 1/2)·K / dstBins
      const t = startBin - 0.5 + ((d - 0.5) * K) / dstBins;
      let mass = 0;
      let moment = 0;
      for (let i = from; i < edge; i++) {
        const c = counts[i]!;
        const u = i - t;
        mass += c;
        moment += c * (u * u);
      }
      total += w2 * (moment + mass / 12);
      from = edge;
    }
    const cut = startBin + q;
    if (d < dstBins && r !== 0 && cut >= from && cut < n) {
      // the bin the boundary cuts, counted once however many boundaries cross it
      const c = counts[cut]!;
      if (c !== 0 && stepQ >= 1) {
        // one boundary only (destination bins at least a bin wide): its parts about the centres of
        // destination bins d - 1 and d, each part's far end half a destination bin from its centre
        const begin = (cut - startBin) * binWidth - (d - 0.5) * dstWidth;
        const end = (cut - startBin + 1) * binWidth - (d + 0.5) * dstWidth;
        total += ((c / binWidth) * (halfCubes - begin * begin * begin + end * end * end)) / 3;
      } else total += binTerms(c, cut, startBin, binWidth, dstWidth, dstBins);
      from = cut + 1;
    }
  }
  return total;
}

/** One source bin's terms of quantizationError: its density's integral against every destination bin it overlaps. */
function binTerms(c: number, i: number, startBin: number, binWidth: number, dstWidth: number, dstBins: number): number {
  if (c === 0) return 0;
  const density = c / binWidth;
  const begin = (i - startBin) * binWidth;
  const end = begin + binWidth;
  const dBegin = Math.min(dstBins - 1, Math.max(0, Math.floor(begin / dstWidth)));
  const dEnd = Math.min(dstBins - 1, Math.max(0, Math.floor(end / dstWidth)));
  const beginCentre = (dBegin + 0.5) * dstWidth;
  let total = norm(begin - beginCentre, dstWidth / 2, density);
  total += (dEnd - dBegin - 1) * norm(-dstWidth / 2, dstWidth / 2, density);
  const endCentre = dEnd * dstWidth + dstWidth / 2;
  total += norm(-dstWidth / 2, end - endCentre, density);
  return total;
}

/** The kept bins, and the quantiles where the search stopped (to test the two loops against each other). */
export interface L2SearchResult {
  readonly startBin: number;
  readonly endBin: number;
  readonly alpha: number;
  readonly beta: number;
}

/**
 * The search loop of _non_linear_param_search over a cumulative histogram: returns the kept bins.
 * `threshold` rounds the quantile bound before it is compared (PyTorch compares in float32).
 *
 * Most of PyTorch's iterations move neither end: `beta` steps down by 1e-5 while the right end's
 * cumulative count stays at or below the bound (a histogram with 10% of its mass in its last bin
 * takes 10,000 of them). Those steps are taken here without the rest of the iteration, a binade's
 * worth at a time (subtractUntil: the same values the repeated float64 subtraction reaches), so every
 * bound compared is the same number PyTorch compares and the kept bins are the same (tested against
 * `l2RangeSearchStepwise`, the loop as PyTorch writes it). A scan's bound is taken once a scan.
 */
export function l2RangeSearch(
  cum: ArrayLike<number>,
  total: number,
  error: (startBin: number, endBin: number) => number,
  threshold: (x: number) => number = (x) => x,
): L2SearchResult {
  const n = cum.length;
  const step = 1e-5;
  let alpha = 0;
  let beta = 1;
  let startBin = 0;
  let endBin = n - 1;
  let best = Infinity;
  while (alpha < beta) {
    const nextAlpha = alpha + step;
    let left = startBin;
    // the bound is the same number at every step of the scan: taken once
    const leftBound = threshold(nextAlpha * total);
    while (left < endBin && cum[left]! < leftBound) left++;
    if (left === startBin) {
      // the left end stays for every beta (alpha does not move while nothing changes): step beta
      // while the right end stays too, exactly the iterations PyTorch ends with `continue`
      const last = cum[endBin]!;
      const stays = endBin <= startBin;
      // `while (alpha < beta && (stays || last <= threshold((beta - step) * total))) beta -= step`, a
      // binade's steps at a time (the rule is monotone: beta only falls, and so does the bound)
      const a = alpha;
      beta = subtractUntil(beta, step, (b) => !(a < b && (stays || last <= threshold((b - step) * total))));
      if (!(alpha < beta)) break;
    }
    const nextBeta = beta - step;
    let right = endBin;
    const rightBound = threshold(nextBeta * total);
    while (right > startBin && cum[right]! > rightBound) right--;
    let nextStart = startBin;
    let nextEnd = endBin;
    if (left - startBin > endBin - right) {
      nextStart = left;
      alpha = nextAlpha;
    } else {
      nextEnd = right;
      beta = nextBeta;
    }
    if (nextStart === startBin && nextEnd === endBin) continue;
    const err = error(nextStart, nextEnd);
    if (err > best) break;
    best = err;
    startBin = nextStart;
    endBin = nextEnd;
  }
  return { startBin, endBin, alpha, beta };
}

/** The search loop one PyTorch iteration at a time: the reference `l2RangeSearch` is tested against. */
export function l2RangeSearchStepwise(
  cum: ArrayLike<number>,
  total: number,
  error: (startBin: number, endBin: number) => number,
  threshold: (x: number) => number = (x) => x,
): L2SearchResult {
  const n = cum.length;
  const step = 1e-5;
  let alpha = 0;
  let beta = 1;
  let startBin = 0;
  let endBin = n - 1;
  let best = Infinity;
  while (alpha < beta) {
    const nextAlpha = alpha + step;
    const nextBeta = beta - step;
    let left = startBin;
    let right = endBin;
    while (left < endBin && cum[left]! < threshold(nextAlpha * total)) left++;
    while (right > startBin && cum[right]! > threshold(nextBeta * total)) right--;
    let nextStart = startBin;
    let nextEnd = endBin;
    if (left - startBin > endBin - right) {
      nextStart = left;
      alpha = nextAlpha;
    } else {
      nextEnd = right;
      beta = nextBeta;
    }
    if (nextStart === startBin && nextEnd === endBin) continue;
    const err = error(nextStart, nextEnd);
    if (err > best) break;
    best = err;
    startBin = nextStart;
    endBin = nextEnd;
  }
  return { startBin, endBin, alpha, beta };
}

export function mseRange(h: HistogramState, dstBins = 256): Range {
  const counts = h.counts;
  const n = counts.length;
  const [lo, hi] = histogramRange(h);
  const binWidth = (hi - lo) / n;
  const cum = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) cum[i] = acc += counts[i]!;
  const { startBin, endBin } = l2RangeSearch(cum, acc, (s, e) =>
    quantizationErrorByRuns(counts, s, e, binWidth, dstBins),
  );
  // the histogram's own range is the symmetric [-t, t]: keep the search within the data
  return { rmin: Math.max(lo + binWidth * startBin, h.min), rmax: Math.min(lo + binWidth * (endBin + 1), h.max) };
}
