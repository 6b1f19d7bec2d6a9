/**
 * The plain form of PyTorch HistogramObserver's _compute_quantization_error, the oracle
 * src/core/torchHistogramError.ts's torchQuantizationError is pinned to bit for bit
 * (test/unit/torchHistogramError.test.ts): cubeDiff for every cube, divFloor32Fast for every floor.
 */
import { f32 } from '../../src/core/rounding';
import { cubeDiff, divFloor32Fast } from '../../src/core/torchHistogramError';

export function torchQuantizationErrorReference(
  counts: Float32Array,
  min: number,
  max: number,
  startBin: number,
  endBin: number,
  dstBins: number,
): number {
  const bins = counts.length;
  const binWidth = (max - min) / bins; // Python floats (float64)
  const dstWidth = (binWidth * (endBin - startBin + 1)) / dstBins;
  if (dstWidth === 0) return 0;
  const bw = f32(binWidth);
  const dw = f32(dstWidth);
  const halfDw = f32(dstWidth / 2);
  const negHalfDw = f32(-dstWidth / 2);
  const middle = cubeDiff(negHalfDw, halfDw);
  let total = 0;
  for (let i = 0; i < bins; i++) {
    // an empty bin's density is 0, so each of its terms is exactly 0 (the ends are finite): skip it
    if (counts[i] === 0) continue;
    const begin = f32(f32(i - startBin) * bw);
    const end = f32(begin + bw);
    const dBegin = Math.min(dstBins - 1, Math.max(0, divFloor32Fast(begin, dw)));
    const dEnd = Math.min(dstBins - 1, Math.max(0, divFloor32Fast(end, dw)));
    const beginCentre = f32(f32(dBegin + 0.5) * dw);
    const density = f32(counts[i]! / bw);
    let norm = f32(density * cubeDiff(f32(begin - beginCentre), halfDw));
    norm = f32(norm + f32(f32(f32(dEnd - dBegin) - 1) * f32(density * middle)));
    const endCentre = f32(f32(dEnd * dw) + halfDw);
    norm = f32(norm + f32(density * cubeDiff(negHalfDw, f32(end - endCentre))));
    total += norm;
  }
  return f32(total);
}
