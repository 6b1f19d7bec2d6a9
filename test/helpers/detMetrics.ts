/** How close a detection model's probability map stays to the float one's. */
import { sqnr } from '../../src/core';

/** Intersection over union of the text masks (probability > 0.3, PP-OCR's DB threshold). */
export function maskIoU(a: Float32Array, b: Float32Array, threshold = 0.3): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! > threshold;
    const y = b[i]! > threshold;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function agreement(ref: Float32Array[], q: Float32Array[]): { sqnrDb: number; iou: number } {
  return { sqnrDb: mean(ref.map((r, i) => sqnr(r, q[i]!))), iou: mean(ref.map((r, i) => maskIoU(r, q[i]!))) };
}
