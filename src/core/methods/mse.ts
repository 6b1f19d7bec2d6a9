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
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    const density = c / binWidth;
    const begin = (i - startBin) * binWidth;
    const end = begin + binWidth;
    const dBegin = Math.min(dstBins - 1, Math.max(0, Math.floor(begin / dstWidth)));
    const dEnd = Math.min(dstBins - 1, Math.max(0, Math.floor(end / dstWidth)));
    const beginCentre = (dBegin + 0.5) * dstWidth;
    total += norm(begin - beginCentre, dstWidth / 2, density);
    total += (dEnd - dBegin - 1) * norm(-dstWidth / 2, dstWidth / 2, density);
    const endCentre = dEnd * dstWidth + dstWidth / 2;
    total += norm(-dstWidth / 2, end - endCentre, density);
  }
  return total;
}

/**
 * The search loop of _non_linear_param_search over a cumulative histogram: returns the kept bins.
 * `threshold` rounds the quantile bound before it is compared (PyTorch compares in float32).
 */
export function l2RangeSearch(
  cum: ArrayLike<number>,
  total: number,
  error: (startBin: number, endBin: number) => number,
  threshold: (x: number) => number = (x) => x,
): { startBin: number; endBin: number } {
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
  return { startBin, endBin };
}

export function mseRange(h: HistogramState, dstBins = 256): Range {
  const counts = h.counts;
  const n = counts.length;
  const [lo, hi] = histogramRange(h);
  const binWidth = (hi - lo) / n;
  const cum = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) cum[i] = acc += counts[i]!;
  const { startBin, endBin } = l2RangeSearch(cum, acc, (s, e) => quantizationError(counts, s, e, binWidth, dstBins));
  // the histogram's own range is the symmetric [-t, t]: keep the search within the data
  return { rmin: Math.max(lo + binWidth * startBin, h.min), rmax: Math.min(lo + binWidth * (endBin + 1), h.max) };
}
