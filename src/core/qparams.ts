/**
 * Scale and zero point from a real range, as onnxruntime's quantizer computes them
 * (onnxruntime/python/tools/quantization/quant_utils.py: get_qmin_qmax_for_qType, compute_scale_zp).
 * These are Quantscope's defaults; PyTorch's differing conventions come later, named as such.
 */
import { DTYPES, type IntDType } from './dtype';
import { QuantscopeError } from './errors';
import { f32, roundHalfToEven } from './rounding';

export interface QRange {
  readonly qmin: number;
  readonly qmax: number;
}

export interface QParams {
  /** float32 scale. */
  readonly scale: number;
  /** Integer zero point in the dtype's range. */
  readonly zeroPoint: number;
}

/** float32's smallest normal number: onnxruntime falls back to scale 1 below it. */
export const FLOAT32_TINY = 1.1754943508222875e-38;

// ORT's symmetric table has no 4-bit entries: int4/uint4 use the full range even when symmetric.
const SYMMETRIC_RANGE: Partial<Record<IntDType, QRange>> = {
  uint8: { qmin: 0, qmax: 254 },
  int8: { qmin: -127, qmax: 127 },
  uint16: { qmin: 0, qmax: 65534 },
  int16: { qmin: -32767, qmax: 32767 },
};

const REDUCED_RANGE: Partial<Record<IntDType, QRange>> = {
  uint8: { qmin: 0, qmax: 127 },
  int8: { qmin: -64, qmax: 64 },
  uint16: { qmin: 0, qmax: 32767 },
  int16: { qmin: -16384, qmax: 16384 },
  uint4: { qmin: 0, qmax: 7 },
  int4: { qmin: -4, qmax: 3 },
};

/** The integer range a range maps onto. reduce_range wins over symmetric, as in ORT. */
export function quantRange(dtype: IntDType, opts: { symmetric?: boolean; reduceRange?: boolean } = {}): QRange {
  if (dtype === 'int32')
    throw new QuantscopeError('UNSUPPORTED_DTYPE', 'int32 is a bias type, not a quantization target');
  if (opts.reduceRange) {
    const r = REDUCED_RANGE[dtype];
    if (r) return r;
  } else if (opts.symmetric) {
    const r = SYMMETRIC_RANGE[dtype];
    if (r) return r;
  }
  return { qmin: DTYPES[dtype].min, qmax: DTYPES[dtype].max };
}

/**
 * compute_scale_zp: widen [rmin, rmax] to include 0; symmetric uses ±max|r| and the middle of the
 * integer range as zero point; a range whose scale is below float32's tiny gives scale 1, zp 0.
 * The width is computed in float32 (it can overflow to Infinity, as in ORT), the scale in float64,
 * and the zero point rounds half to even from the float64 scale before the scale is stored as float32.
 */
export function computeScaleZeroPoint(rmin: number, rmax: number, range: QRange, symmetric: boolean): QParams {
  const { qmin, qmax } = range;
  if (qmin > 0 || qmax < 0) throw new QuantscopeError('BAD_RANGE', `qmin ${qmin} and qmax ${qmax} must bracket 0`);
  if (Number.isNaN(rmin) || Number.isNaN(rmax)) throw new QuantscopeError('NON_FINITE', 'range is NaN');
  let lo = f32(Math.min(rmin, 0));
  let hi = f32(Math.max(rmax, 0));
  if (symmetric) {
    const absmax = Math.max(Math.abs(lo), Math.abs(hi));
    lo = -absmax;
    hi = absmax;
  }
  const width = f32(hi - lo);
  const scale64 = width / (qmax - qmin);
  if (scale64 < FLOAT32_TINY) return { scale: 1, zeroPoint: 0 };
  const zeroPoint = symmetric ? roundHalfToEven((qmin + qmax) / 2) : roundHalfToEven(qmin - lo / scale64);
  return { scale: f32(scale64), zeroPoint };
}

/** Scale and zero point for an activation range: ORT's QDQQuantizer.calc_quant_params. */
export function activationQParams(
  rmin: number,
  rmax: number,
  dtype: IntDType,
  opts: { symmetric?: boolean; reduceRange?: boolean } = {},
): QParams {
  const symmetric = opts.symmetric ?? false;
  return computeScaleZeroPoint(rmin, rmax, quantRange(dtype, { symmetric, reduceRange: opts.reduceRange }), symmetric);
}
