/**
 * PyTorch's conventions, named as such, where they differ from onnxruntime's defaults
 * (torch/ao/quantization/observer.py: _calculate_qparams; utils.calculate_qmin_qmax; ATen quantize_val):
 * full signed range [-128, 127] when symmetric (scale = amax / 127.5), quint8 symmetric zero point 128,
 * reduce_range [-64, 63] (ORT: [-64, 64]), a scale floor of eps = 2^-23 (ORT: only a fallback to 1 for
 * ranges below float32's tiny), zero point clamped into range, and QuantizeLinear by multiplying with
 * the float32 reciprocal of the scale (ORT divides). All arithmetic in float32, as tensor math there.
 */
import { QuantscopeError } from './errors';
import type { QParams, QRange } from './qparams';
import { f32, roundHalfToEven } from './rounding';

export type TorchDType = 'quint8' | 'qint8';

export const TORCH_EPS = 1.1920928955078125e-7;

export interface TorchQParamOptions {
  readonly dtype: TorchDType;
  readonly symmetric?: boolean;
  readonly reduceRange?: boolean;
  readonly quantMin?: number;
  readonly quantMax?: number;
  readonly eps?: number;
}

/** utils.calculate_qmin_qmax. */
export function torchQuantRange(o: TorchQParamOptions): QRange {
  if (o.quantMin !== undefined && o.quantMax !== undefined) {
    return o.reduceRange
      ? { qmin: Math.trunc(o.quantMin / 2), qmax: Math.trunc(o.quantMax / 2) }
      : { qmin: o.quantMin, qmax: o.quantMax };
  }
  if (o.dtype === 'qint8') return o.reduceRange ? { qmin: -64, qmax: 63 } : { qmin: -128, qmax: 127 };
  return o.reduceRange ? { qmin: 0, qmax: 127 } : { qmin: 0, qmax: 255 };
}

/** _calculate_qparams for a per-tensor range. */
export function torchQParams(minVal: number, maxVal: number, o: TorchQParamOptions): QParams {
  if (Number.isNaN(minVal) || Number.isNaN(maxVal)) throw new QuantscopeError('NON_FINITE', 'range is NaN');
  const { qmin, qmax } = torchQuantRange(o);
  const eps = o.eps ?? TORCH_EPS;
  const minNeg = f32(Math.min(minVal, 0));
  const maxPos = f32(Math.max(maxVal, 0));
  if (o.symmetric) {
    const amax = Math.max(-minNeg, maxPos);
    const scale = Math.max(f32(amax / f32((qmax - qmin) / 2)), f32(eps));
    const custom = o.quantMin !== undefined && o.quantMax !== undefined;
    const zeroPoint = o.dtype === 'quint8' ? (custom ? Math.floor((qmin + qmax) / 2) : 128) : 0;
    return { scale, zeroPoint };
  }
  const scale = Math.max(f32(f32(maxPos - minNeg) / (qmax - qmin)), f32(eps));
  const zp = qmin - roundHalfToEven(f32(minNeg / scale));
  return { scale, zeroPoint: Math.min(qmax, Math.max(qmin, zp)) };
}

/** quantize_per_tensor: clamp(zp + nearbyint(x * (1/scale)), type range), reciprocal in float32. */
export function torchQuantize(x: ArrayLike<number>, p: QParams, dtype: TorchDType): Int32Array {
  const inv = f32(1 / p.scale);
  const [lo, hi] = dtype === 'qint8' ? [-128, 127] : [0, 255];
  const out = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = p.zeroPoint + roundHalfToEven(f32(x[i]! * inv));
    out[i] = Number.isNaN(v) ? (dtype === 'qint8' ? -128 : 0) : Math.min(hi, Math.max(lo, v));
  }
  return out;
}
