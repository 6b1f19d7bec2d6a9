/**
 * The distribution method (onnxruntime calibrate.py: HistogramCollector.compute_distribution, scenario
 * "same"): mean and standard deviation from the value histogram's bin centres, for float8 E4M3FN
 * scales: scale = std / std(all finite E4M3FN values), zero point 0 (quant_utils.compute_scale_zp_float8).
 */
import type { HistogramState } from '../histogram';
import { histogramEdges, histogramRange } from '../histogram';
import { f32 } from '../rounding';

/** Every finite float8 E4M3FN value (onnx.numpy_helper.float8e4m3_to_float32). */
export function e4m3fnValues(): Float32Array {
  const out: number[] = [];
  for (let i = 0; i < 256; i++) {
    const s = i & 0x80 ? -1 : 1;
    const e = (i >> 3) & 0xf;
    const m = i & 0x7;
    if (e === 0xf && m === 0x7) continue; // NaN
    out.push(e === 0 ? s * (m / 8) * 2 ** -6 : s * (1 + m / 8) * 2 ** (e - 7));
  }
  return Float32Array.from(out);
}

export interface DistributionResult {
  readonly avg: number;
  readonly std: number;
  /** float8 E4M3FN scale. */
  readonly e4m3fnScale: number;
}

export function distribution(h: HistogramState): DistributionResult {
  const [lo, hi] = histogramRange(h);
  const e = histogramEdges(lo, hi, h.counts.length);
  let s = 0;
  let sv = 0;
  let sv2 = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const v = f32(f32(e[i]! + e[i + 1]!) * 0.5);
    s += h.counts[i]!;
    sv += h.counts[i]! * v;
    sv2 += h.counts[i]! * f32(v * v); // numpy squares the float32 centres in float32
  }
  const avg = sv / s;
  const std = Math.sqrt(sv2 / s - avg * avg);
  const f8 = e4m3fnValues();
  const mean = f8.reduce((a, b) => a + b, 0) / f8.length;
  const stdF8 = f32(Math.sqrt(f8.reduce((a, b) => a + (b - mean) ** 2, 0) / f8.length));
  return { avg: f32(avg), std: f32(std), e4m3fnScale: f32(f32(std) / stdF8) };
}
