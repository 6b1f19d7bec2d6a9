/**
 * PyTorch HistogramObserver's _compute_quantization_error (torch/ao/quantization/observer.py, PyTorch
 * 1.13) in float32, as its tensor arithmetic runs on the CPU, and the float32 floor division it uses
 * (c10 div_floor_floating); see torchHistogram.ts for the observer itself.
 */
import { f32 } from './rounding';
import { torchErrorKernel, type TorchErrorTerms } from './torchErrorKernel';
import type { KernelKind } from './wasmKernel';

/**
 * torch.div(a, b, rounding_mode='floor') for float32 (c10 div_floor_floating); numpy's floor_divide
 * (npy_divmod) takes the same steps: fmod first, then the quotient, then floor (histogramPlan.ts uses it so).
 */
export function divFloor32(a: number, b: number): number {
  if (b === 0) return f32(a / b);
  const mod = f32(a % b);
  let div = f32(f32(a - mod) / b);
  if (mod !== 0 && b < 0 !== mod < 0) div = f32(div - 1);
  if (div === 0) return 0;
  let floordiv = Math.floor(div);
  if (div - floordiv > 0.5) floordiv += 1;
  return floordiv;
}

/**
 * divFloor32 where the float64 quotient sits clearly between two integers: its steps (an exact fmod,
 * then float32 roundings that the final rounding to an integer undoes for quotients below 2^22) give
 * the exact floor of a / b, which the float64 quotient's floor equals away from an integer. Quotients
 * within 1e-6 of an integer take divFloor32 itself.
 */
export function divFloor32Fast(a: number, b: number): number {
  const q = a / b;
  const f = Math.floor(q);
  const frac = q - f;
  if (frac > 1e-6 && frac < 1 - 1e-6 && q < 4194304 && q > -4194304) return f;
  return divFloor32(a, b);
}

const THIRD = 1 / 3;

/**
 * f32(y / 3) for a float32 y, as f32(y · (1/3)): the two float64 values differ by under an ulp, and
 * the quotient of a float32 by 3 is never within that of a float32 rounding tie (its bits past float32
 * precision repeat 01 or 10), so both round to the same float32 (checked on every mantissa in the test).
 */
export function third32(y: number): number {
  return f32(y * THIRD);
}

/**
 * divFloor32(a, b) given inv = 1 / b. Away from an integer the float64 product a · inv (within 1e-9 of
 * a / b for quotients below 2^22) has the exact floor, as in divFloor32Fast; a quotient that is an
 * integer r exactly (r · b = a, exact in float64 for |r| < 2^22) is r, which is what divFloor32's steps
 * give then (its fmod is 0): the bins the L2 search sets on a whole number of destination bins; the rest
 * take divFloor32 itself (tests pin this to it).
 */
export function floorDiv32(a: number, b: number, inv: number): number {
  const q = a * inv;
  if (q < 4194304 && q > -4194304) {
    const f = Math.floor(q);
    const frac = q - f;
    if (frac > 1e-6 && frac < 1 - 1e-6) return f;
    const r = frac <= 1e-6 ? f : f + 1; // the integer q is within 1e-6 of (no tie to round)
    if (r * b === a) return r + 0; // + 0: never -0
  }
  return divFloor32(a, b);
}

/** _get_norm's (end³ - begin³) / 3 in float32. */
export function cubeDiff(begin: number, end: number): number {
  return f32(f32(f32(f32(end * end) * end) - f32(f32(begin * begin) * begin)) / 3);
}

/** The WASM SIMD kernel for the loop below, floorDiv32 its fallback floor (loaded on first use). */
const kernel = torchErrorKernel(floorDiv32);

/** Which loop torchQuantizationError runs here: the WASM SIMD kernel, or JavaScript where it cannot load. */
export function torchErrorKernelKind(): KernelKind {
  return kernel.kind();
}

/** Tests and the bench compare both loops: 'js' turns the kernel off, null restores the default. */
export function forceTorchErrorKernel(kind: KernelKind | null): void {
  kernel.force(kind);
}

/**
 * _compute_quantization_error(startBin, endBin) over `counts` spanning [min, max]: the WASM SIMD kernel
 * (torchErrorKernel.wat) where it loads, else the JavaScript loop; the same float32 result, bit for bit.
 * `counts` must not be written between calls: the kernel keeps its copy of the last array it was given,
 * keyed by the array itself (a histogram's counts are never written once it is made); pass a new array.
 */
export function torchQuantizationError(
  counts: Float32Array,
  min: number,
  max: number,
  startBin: number,
  endBin: number,
  dstBins: number,
): number {
  const terms = torchErrorTerms(counts.length, min, max, startBin, endBin, dstBins);
  if (!terms) return 0;
  return f32(kernel.total(counts, terms) ?? totalJs(counts, terms));
}

/** The float32 terms every bin's norm uses, for `bins` bins over [min, max]; null when dst_bin_width is 0. */
export function torchErrorTerms(
  bins: number,
  min: number,
  max: number,
  startBin: number,
  endBin: number,
  dstBins: number,
): TorchErrorTerms | null {
  const binWidth = (max - min) / bins; // Python floats (float64)
  const dstWidth = (binWidth * (endBin - startBin + 1)) / dstBins;
  if (dstWidth === 0) return null;
  const halfDw = f32(dstWidth / 2);
  const negHalfDw = f32(-dstWidth / 2);
  const dw = f32(dstWidth);
  return {
    startBin,
    bw: f32(binWidth),
    dw,
    halfDw,
    middle: cubeDiff(negHalfDw, halfDw),
    // the cubes of the fixed ends of cubeDiff's two calls a bin, taken once (the same float32 steps)
    halfCube: f32(f32(halfDw * halfDw) * halfDw),
    negHalfCube: f32(f32(negHalfDw * negHalfDw) * negHalfDw),
    last: dstBins - 1,
    inv: 1 / dw,
  };
}

/** The bins' float32 norms summed in float64, in bin order: the kernel's loop in JavaScript. */
function totalJs(counts: Float32Array, t: TorchErrorTerms): number {
  const { startBin, bw, dw, halfDw, middle, halfCube, negHalfCube, last, inv } = t;
  const bins = counts.length;
  let total = 0;
  for (let i = 0; i < bins; i++) {
    // an empty bin's density is 0, so each of its terms is exactly 0 (the ends are finite): skip it
    const c = counts[i]!;
    if (c === 0) continue;
    const begin = f32(f32(i - startBin) * bw);
    const end = f32(begin + bw);
    let dBegin = floorDiv32(begin, dw, inv);
    dBegin = dBegin < 0 ? 0 : dBegin > last ? last : dBegin;
    let dEnd = floorDiv32(end, dw, inv);
    dEnd = dEnd < 0 ? 0 : dEnd > last ? last : dEnd;
    const beginCentre = f32(f32(dBegin + 0.5) * dw);
    const density = f32(c / bw);
    // cubeDiff(begin - beginCentre, halfDw) and cubeDiff(negHalfDw, end - endCentre) written out, with
    // the fixed ends' cubes taken once and the float32 division by 3 as a product (third32)
    const b = f32(begin - beginCentre);
    let norm = f32(density * third32(f32(halfCube - f32(f32(b * b) * b))));
    norm = f32(norm + f32(f32(f32(dEnd - dBegin) - 1) * f32(density * middle)));
    const e = f32(end - f32(f32(dEnd * dw) + halfDw));
    norm = f32(norm + f32(density * third32(f32(f32(f32(e * e) * e) - negHalfCube))));
    total += norm;
  }
  return total;
}
