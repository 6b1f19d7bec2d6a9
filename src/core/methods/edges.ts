/**
 * One edge of a histogram's bins without building them all: the same float32 steps as histogramEdges
 * (numpy's linspace as onnxruntime's calibrator gets it), so the same bits (edges.test.ts pins them).
 */
import { f32 } from '../rounding';

/** Edge k of n bins over [lo, hi]: f32(f32(k · step) + lo) with step = f32(f32(hi - lo) / n); the last is hi. */
export function histogramEdge(lo: number, hi: number, n: number, k: number): number {
  if (k === n) return hi;
  const step = f32(f32(hi - lo) / n);
  return f32(f32(k * step) + lo);
}
