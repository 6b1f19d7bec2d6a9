/**
 * Scale and zero point under either published convention, named as such (reference kit README,
 * "ORT vs PyTorch disagreements"):
 *  - onnxruntime (quant_utils.compute_scale_zp): symmetric int8 uses the restricted [-127, 127]
 *    (scale amax/127), symmetric uint8 [0, 254] with zero point 127; reduce_range gives int8 [-64, 64];
 *    a scale below float32's tiny becomes 1 (zero point 0); other tiny scales are kept.
 *  - PyTorch (observer._calculate_qparams): the full range (symmetric int8 scale amax/127.5), symmetric
 *    unsigned zero point 2^(bits-1) (128 for quint8), reduce_range halves the range (int8 [-64, 63]),
 *    and scales are clamped up to eps = 2^-23 (so a 1e-8-wide tensor quantizes to zeros).
 * PyTorch has no 4- or 16-bit observers; its rules are applied to those widths as written for 8 bits.
 */
import { DTYPES, type IntDType } from './dtype';
import { QuantscopeError } from './errors';
import { activationQParams, quantRange, type QParams, type QRange } from './qparams';
import { torchQParams } from './pytorch';

export type Convention = 'onnxruntime' | 'pytorch';

export interface QParamOptions {
  readonly symmetric?: boolean;
  readonly reduceRange?: boolean;
  readonly convention?: Convention;
}

/** PyTorch's integer range for any width: the dtype's full range, halved (towards zero) by reduce_range. */
export function torchRangeFor(dtype: IntDType, reduceRange = false): QRange {
  const { min, max } = DTYPES[dtype];
  return reduceRange ? { qmin: Math.trunc(min / 2), qmax: Math.trunc(max / 2) } : { qmin: min, qmax: max };
}

export function quantParams(rmin: number, rmax: number, dtype: IntDType, opts: QParamOptions = {}): QParams {
  if ((opts.convention ?? 'onnxruntime') === 'onnxruntime') return activationQParams(rmin, rmax, dtype, opts);
  if (dtype === 'int32')
    throw new QuantscopeError('UNSUPPORTED_DTYPE', 'int32 is a bias type, not a quantization target');
  const signed = DTYPES[dtype].min < 0;
  if (dtype === 'int8' || dtype === 'uint8') {
    return torchQParams(rmin, rmax, {
      dtype: signed ? 'qint8' : 'quint8',
      symmetric: opts.symmetric,
      reduceRange: opts.reduceRange,
    });
  }
  const { qmin, qmax } = torchRangeFor(dtype, opts.reduceRange);
  const p = torchQParams(rmin, rmax, {
    dtype: signed ? 'qint8' : 'quint8',
    symmetric: opts.symmetric,
    quantMin: qmin,
    quantMax: qmax,
  });
  // torch's custom-range symmetric unsigned zero point is (qmin + qmax) // 2; its 8-bit one is 128 = 2^(bits-1)
  return opts.symmetric && !signed ? { scale: p.scale, zeroPoint: Math.ceil((qmin + qmax) / 2) } : p;
}

/** The integer range a choice maps values onto: what the explorer draws as the grid. */
export function quantRangeFor(dtype: IntDType, opts: QParamOptions = {}): QRange {
  if ((opts.convention ?? 'onnxruntime') === 'pytorch') return torchRangeFor(dtype, opts.reduceRange);
  return quantRange(dtype, { symmetric: opts.symmetric, reduceRange: opts.reduceRange });
}
