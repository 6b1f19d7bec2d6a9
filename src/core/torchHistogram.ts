/**
 * PyTorch's HistogramObserver (torch/ao/quantization/observer.py, PyTorch 1.13: forward,
 * _adjust_min_max, _combine_histograms, _non_linear_param_search, _compute_quantization_error),
 * reproduced step for step in float32, as its tensor arithmetic runs on the CPU:
 *  - one `observeTorchHistogram` is one forward() call (PyTorch's loop calls the model once a sample);
 *  - the first call (or one after a constant tensor) bins the data with torch.histc over
 *    [int(min), int(max)]: 1.13 passes the range through Python's int(), which truncates towards zero,
 *    so values beyond the truncated ends are not counted (histc ignores values outside its range), and
 *    when both ends truncate to the same integer histc bins on the data's own min/max instead
 *    (aten/src/ATen/native/Histogram.cpp: histc_select_outer_bin_edges);
 *  - later calls widen [min_val, max_val] to a grid 128 times finer than the old bins
 *    (_adjust_min_max: the max is pushed out so the new width is a whole number of fine steps), bin
 *    the new data over the truncated range again, and fold the old histogram in by upsampling it
 *    128-fold and summing it back down (_combine_histograms, cumulative sum in float64);
 *  - calculate_qparams runs the L2 search over the 2048 bins as if they covered [min_val, max_val].
 * torch.histc's bin for x is trunc((x - lo) * bins / (hi - lo)) in float32 over float32 ends
 * (HistogramKernel.cpp, LINEAR_INTERPOLATION, the histc path), the last bin closed.
 *
 * One approximation, named: torch.sum over the 2048 per-bin errors runs ATen's vectorised cascade
 * sum (its order depends on the CPU's vector width); here they are summed in float64 and rounded to
 * float32. Only the comparison of two consecutive candidates' errors can see the difference.
 */
import { QuantscopeError } from './errors';
import { l2RangeSearch } from './methods/mse';
import { f32, roundHalfToEven } from './rounding';
import { torchQuantizationError } from './torchHistogramError';

export { divFloor32, divFloor32Fast, torchQuantizationError } from './torchHistogramError';

export interface TorchHistogramState {
  /** torch.float32 counts (fractional after a combine). */
  readonly counts: Float32Array;
  /** min_val/max_val as float32; +Inf/-Inf before the first call. */
  readonly min: number;
  readonly max: number;
  readonly upsampleRate: number;
  /** forward() calls seen. */
  readonly calls: number;
}

export function createTorchHistogram(bins = 2048, upsampleRate = 128): TorchHistogramState {
  return { counts: new Float32Array(bins), min: Infinity, max: -Infinity, upsampleRate, calls: 0 };
}

function aminmax(x: ArrayLike<number>, name: string): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!Number.isFinite(v))
      // torch.aminmax propagates NaN and int() of NaN or ±Inf raises: PyTorch stops there too
      throw new QuantscopeError('NON_FINITE', `${name} contains ${v}: PyTorch's HistogramObserver cannot bin it`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [f32(lo), f32(hi)];
}

/** torch.histc(x, bins, min, max) on the CPU (float32 data): a fresh float32 histogram. */
export function torchHistc(x: ArrayLike<number>, bins: number, min: number, max: number): Float32Array {
  let lo = min;
  let hi = max;
  if (lo === hi && x.length > 0) [lo, hi] = aminmax(x, 'tensor');
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  // linspace(lo, hi, bins + 1) in float32 keeps both ends exactly; only they enter the bin formula
  const left = f32(lo);
  const right = f32(hi);
  const width = f32(right - left);
  const out = new Float32Array(bins);
  // The float32 formula, evaluated in float64 first: three float32 roundings move the quotient by
  // under 2e-7 of its value (< 5e-4 of a bin for 2048 bins), so only a quotient that close to an
  // integer is recomputed the float32 way; elsewhere both truncate to the same bin.
  const scale = bins / width;
  const tol = 1e-6 + bins * 2.5e-7;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v >= left && v <= right)) continue;
    const q = (v - left) * scale;
    let pos = Math.trunc(q);
    const frac = q - pos;
    if (frac < tol || frac > 1 - tol) pos = Math.trunc(f32(f32(f32(v - left) * bins) / width));
    if (pos >= bins) pos = bins - 1;
    out[pos]! += 1;
  }
  return out;
}

/** torch.histc's bin formula written plainly in float32, one element at a time (tests pin torchHistc to it). */
export function torchHistcReference(x: ArrayLike<number>, bins: number, left: number, right: number): Float32Array {
  const width = f32(right - left);
  const out = new Float32Array(bins);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v >= left && v <= right)) continue;
    let pos = Math.trunc(f32(f32(f32(v - left) * bins) / width));
    if (pos >= bins) pos = bins - 1;
    out[pos]! += 1;
  }
  return out;
}

/** _combine_histograms: `fresh` (the new data's bins) plus `old` upsampled, shifted and summed down. */
function combineHistograms(
  fresh: Float32Array,
  old: Float32Array,
  upsampleRate: number,
  downsampleRate: number,
  startIdx: number,
): Float32Array {
  const bins = fresh.length;
  const end = startIdx + bins * upsampleRate;
  if (startIdx < 0 || end > bins * downsampleRate)
    throw new QuantscopeError('NON_FINITE', 'the histogram range cannot be combined (PyTorch fails here too)');
  // torch.cumsum(..., dtype=double) adds sequentially in float64; adding the zeros outside
  // [startIdx, end) changes nothing, so only that stretch is walked.
  const integral = new Float64Array(bins);
  let acc = 0;
  let j = Math.floor(startIdx / downsampleRate); // blocks before it hold 0
  let boundary = (j + 1) * downsampleRate;
  let k = startIdx;
  for (let i = 0; i < old.length; i++) {
    const v = old[i]!;
    let left = upsampleRate; // this bin's copies, added one at a time as cumsum does
    while (left > 0) {
      const run = Math.min(left, boundary - k);
      if (v !== 0) for (let c = 0; c < run; c++) acc += v;
      k += run;
      left -= run;
      if (k === boundary) {
        integral[j++] = acc;
        boundary += downsampleRate;
      }
    }
  }
  for (; j < bins; j++) integral[j] = acc;
  const out = new Float32Array(bins);
  for (let j = 0; j < bins; j++) {
    // shifted_integral_histogram is float32: the previous integral rounded to float32
    const shifted = j === 0 ? 0 : f32(integral[j - 1]!);
    out[j] = f32(fresh[j]! + f32((integral[j]! - shifted) / upsampleRate));
  }
  return out;
}

/** One HistogramObserver.forward(x). */
export function observeTorchHistogram(
  state: TorchHistogramState,
  x: ArrayLike<number>,
  name = 'tensor',
): TorchHistogramState {
  if (x.length === 0) return state;
  const bins = state.counts.length;
  const [newMin, newMax] = aminmax(x, name);
  const uninitialized = state.min === Infinity && state.max === -Infinity;
  if (uninitialized || state.min === state.max) {
    const counts = torchHistc(x, bins, Math.trunc(newMin), Math.trunc(newMax));
    return { ...state, counts, min: newMin, max: newMax, calls: state.calls + 1 };
  }
  const combinedMin = Math.min(newMin, state.min);
  let combinedMax = Math.max(newMax, state.max);
  // _adjust_min_max, every step a float32 tensor operation
  const histBinWidth = f32(f32(state.max - state.min) / (bins * state.upsampleRate));
  const binsWidth = f32(bins * histBinWidth);
  const downsampleRate = Math.ceil(f32(f32(combinedMax - combinedMin) / binsWidth));
  if (!Number.isFinite(downsampleRate) || downsampleRate < 1)
    throw new QuantscopeError('NON_FINITE', `${name}: its range cannot be histogrammed (PyTorch fails here too)`);
  const e = f32(f32(downsampleRate * binsWidth) - f32(combinedMax - combinedMin));
  combinedMax = f32(combinedMax + e);
  const startIdx = roundHalfToEven(f32(f32(state.min - combinedMin) / histBinWidth));
  let counts = torchHistc(x, bins, Math.trunc(combinedMin), Math.trunc(combinedMax));
  if (combinedMin === state.min && combinedMax === state.max) {
    for (let i = 0; i < bins; i++) counts[i] = f32(counts[i]! + state.counts[i]!);
  } else counts = combineHistograms(counts, state.counts, state.upsampleRate, downsampleRate, startIdx);
  return { ...state, counts, min: combinedMin, max: combinedMax, calls: state.calls + 1 };
}

/** _non_linear_param_search: the [new_min, new_max] calculate_qparams hands to _calculate_qparams. */
export function torchHistogramRange(state: TorchHistogramState, dstBins = 256): { rmin: number; rmax: number } {
  if (state.calls === 0) throw new QuantscopeError('NO_STATISTICS', 'the HistogramObserver has seen no data');
  const { counts, min, max } = state;
  const bins = counts.length;
  const binWidth = f32(f32(max - min) / bins);
  // torch.cumsum over float32 accumulates in float64 and stores float32; the total is torch.sum's
  const cum = new Float64Array(bins);
  let acc = 0;
  for (let i = 0; i < bins; i++) {
    acc += counts[i]!;
    cum[i] = f32(acc);
  }
  const total = f32(acc);
  const { startBin, endBin } = l2RangeSearch(
    cum,
    total,
    (s, e) => torchQuantizationError(counts, min, max, s, e, dstBins),
    f32, // `cSum[l] < next_alpha * total` compares in float32
  );
  return { rmin: f32(min + f32(binWidth * startBin)), rmax: f32(min + f32(binWidth * (endBin + 1))) };
}
