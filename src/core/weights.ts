/**
 * Weight and bias quantization as onnxruntime's QDQ quantizer does it
 * (onnxruntime/python/tools/quantization/base_quantizer.py: quantize_weight_per_channel_impl,
 * quantize_bias_static_impl; qdq_quantizer.py: _adjust_weight_scale_for_int32_bias, ORT >= 1.20).
 */
import { quantParams, type Convention } from './conventions';
import { DTYPES, type IntDType } from './dtype';
import { QuantscopeError } from './errors';
import { computeScaleZeroPoint, quantRange, type QParams } from './qparams';
import { allocInt, axisGeometry, quantizeLinear, quantizeLinearPerAxis, type IntArray } from './quantize';
import { f32, roundHalfToEven, saturate } from './rounding';

/** ORT's default: int4/int8/int16 weights are symmetric, unsigned ones asymmetric (is_weight_symmetric). */
export function isWeightSymmetricByDefault(dtype: IntDType): boolean {
  return dtype === 'int4' || dtype === 'int8' || dtype === 'int16';
}

export interface WeightQuantOptions {
  readonly dtype: IntDType;
  readonly symmetric?: boolean;
  readonly reduceRange?: boolean;
  /**
   * Whose rules (default onnxruntime's). PyTorch's weight observers (MinMaxObserver,
   * PerChannelMinMaxObserver; qint8 symmetric in every default qconfig) use the full [-128, 127]
   * (scale max|w| / 127.5, at least eps = 2^-23), and quantize_per_channel multiplies by the float32
   * reciprocal of the scale (ATen quantize_val) where ONNX QuantizeLinear divides.
   */
  readonly convention?: Convention;
}

export interface QuantizedWeight {
  readonly dtype: IntDType;
  /** One entry per tensor, or one per channel along `axis`. */
  readonly scales: Float32Array;
  readonly zeroPoints: Int32Array;
  readonly axis: number | null;
  readonly data: IntArray;
}

/** NaN-propagating min/max, as numpy's data.min()/data.max() on a weight. */
function rangeOf(
  data: ArrayLike<number>,
  start: number,
  stride: number,
  count: number,
  inner: number,
  outer: number,
): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let o = 0; o < outer; o++) {
    const base = start + o * stride;
    for (let i = 0; i < inner; i++) {
      const v = data[base + i]!;
      if (Number.isNaN(v)) return [NaN, NaN];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return count === 0 ? [0, 0] : [lo, hi];
}

function weightParams(rmin: number, rmax: number, opts: WeightQuantOptions): QParams {
  const symmetric = opts.symmetric ?? isWeightSymmetricByDefault(opts.dtype);
  if (Number.isNaN(rmin) || Number.isNaN(rmax)) throw new QuantscopeError('NON_FINITE', 'weight contains NaN');
  if (opts.convention === 'pytorch')
    return quantParams(rmin, rmax, opts.dtype, { symmetric, reduceRange: opts.reduceRange, convention: 'pytorch' });
  return computeScaleZeroPoint(
    rmin,
    rmax,
    quantRange(opts.dtype, { symmetric, reduceRange: opts.reduceRange }),
    symmetric,
  );
}

export function quantizeWeightPerTensor(data: Float32Array, opts: WeightQuantOptions): QuantizedWeight {
  const [lo, hi] = rangeOf(data, 0, 0, data.length, data.length, 1);
  const p = weightParams(lo, hi, opts);
  return {
    dtype: opts.dtype,
    scales: Float32Array.of(p.scale),
    zeroPoints: Int32Array.of(p.zeroPoint),
    axis: null,
    data:
      opts.convention === 'pytorch'
        ? torchQuantizeLinearPerAxis(data, [data.length], 0, [p.scale], [p.zeroPoint], opts.dtype, true)
        : quantizeLinear(data, p.scale, p.zeroPoint, opts.dtype),
  };
}

/**
 * ATen's quantize_val per element: clamp(zero_point + nearbyint(x * (1.0f / scale))), the reciprocal
 * and the product in float32 (aten/src/ATen/native/quantized/AffineQuantizerBase.cpp).
 */
function torchQuantizeLinearPerAxis(
  x: Float32Array,
  shape: readonly number[],
  axis: number,
  scales: ArrayLike<number>,
  zeroPoints: ArrayLike<number>,
  dtype: IntDType,
  perTensor = false,
): IntArray {
  const { outer, channels, inner } = perTensor ? { outer: 1, channels: 1, inner: x.length } : axisGeometry(shape, axis);
  const { min, max } = DTYPES[dtype];
  const out = allocInt(dtype, x.length);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      const inv = f32(1 / f32(scales[c]!));
      const z = zeroPoints[c]!;
      for (let i = 0; i < inner; i++) out[base + i] = saturate(z + roundHalfToEven(f32(x[base + i]! * inv)), min, max);
    }
  return out;
}

/** Per-channel ranges along `axis`, NaN-propagating. */
export function channelRanges(
  data: Float32Array,
  shape: readonly number[],
  axis: number,
): { mins: Float32Array; maxs: Float32Array } {
  const { outer, channels, inner } = axisGeometry(shape, axis);
  const mins = new Float32Array(channels);
  const maxs = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const [lo, hi] = rangeOf(data, c * inner, channels * inner, outer * inner, inner, outer);
    mins[c] = lo;
    maxs[c] = hi;
  }
  return { mins, maxs };
}

export function computePerChannelParams(
  data: Float32Array,
  shape: readonly number[],
  axis: number,
  opts: WeightQuantOptions,
): { scales: Float32Array; zeroPoints: Int32Array } {
  const { mins, maxs } = channelRanges(data, shape, axis);
  const scales = new Float32Array(mins.length);
  const zeroPoints = new Int32Array(mins.length);
  for (let c = 0; c < mins.length; c++) {
    const p = weightParams(mins[c]!, maxs[c]!, opts);
    scales[c] = p.scale;
    zeroPoints[c] = p.zeroPoint;
  }
  return { scales, zeroPoints };
}

export function quantizeWeightPerChannel(
  data: Float32Array,
  shape: readonly number[],
  axis: number,
  opts: WeightQuantOptions,
): QuantizedWeight {
  const a = axis < 0 ? axis + shape.length : axis;
  const { scales, zeroPoints } = computePerChannelParams(data, shape, a, opts);
  return {
    dtype: opts.dtype,
    scales,
    zeroPoints,
    axis: a,
    data:
      opts.convention === 'pytorch'
        ? torchQuantizeLinearPerAxis(data, shape, a, scales, zeroPoints, opts.dtype)
        : quantizeLinearPerAxis(data, shape, a, scales, zeroPoints, opts.dtype),
  };
}

/** Re-quantize a weight with given parameters (after the bias adjustment changed its scales). */
export function requantizeWeight(
  data: Float32Array,
  shape: readonly number[],
  w: QuantizedWeight,
  scales: Float32Array,
): QuantizedWeight {
  const q =
    w.axis === null
      ? quantizeLinear(data, scales[0]!, w.zeroPoints[0]!, w.dtype)
      : quantizeLinearPerAxis(data, shape, w.axis, scales, w.zeroPoints, w.dtype);
  return { ...w, scales, data: q };
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * _adjust_weight_scale_for_int32_bias: where input_scale * weight_scale is too small for the
 * bias to fit int32, enlarge the weight scale so it does. Returns the new scales, or null when none
 * changed. Per-tensor uses the bias's whole range; per-channel each channel's |bias|.
 */
export function adjustWeightScaleForInt32Bias(
  inputScale: number,
  weightScales: Float32Array,
  bias: Float32Array,
): Float32Array | null {
  const epsilon = 1.0001;
  const qrange = INT32_MAX - (INT32_MIN + 1);
  const out = Float32Array.from(weightScales);
  let updated = false;
  const adjust = (i: number, absmax: number): void => {
    const smallest = (epsilon * (2 * absmax)) / qrange;
    const candidate = inputScale * out[i]!;
    if (candidate < smallest && candidate > 0) {
      out[i] = out[i]! * (smallest / candidate);
      updated = true;
    }
  };
  if (weightScales.length === 1 && bias.length !== 1) {
    let lo = 0;
    let hi = 0;
    for (const b of bias) {
      if (b < lo) lo = b;
      if (b > hi) hi = b;
    }
    adjust(0, Math.max(Math.abs(lo), Math.abs(hi)));
  } else {
    for (let i = 0; i < out.length; i++) adjust(i, Math.abs(bias[i]!));
  }
  return updated ? out : null;
}

export interface QuantizedBias {
  readonly scales: Float32Array;
  readonly data: Int32Array;
  /** True when some value saturated to int32's range. */
  readonly clipped: boolean;
}

/** quantize_bias_static_impl: int32, zero point 0, scale = float32(input_scale * weight_scale), q = rne(b / s) in float64. */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): QuantizedBias {
  const perChannel = weightScales.length > 1;
  if (perChannel && weightScales.length !== bias.length) {
    throw new QuantscopeError(
      'BAD_TENSOR',
      `bias has ${bias.length} values but the weight has ${weightScales.length} channels`,
    );
  }
  const scales = new Float32Array(weightScales.length);
  for (let i = 0; i < scales.length; i++) scales[i] = f32(inputScale * weightScales[i]!);
  const data = new Int32Array(bias.length);
  let clipped = false;
  for (let i = 0; i < bias.length; i++) {
    // The scale product is float32 (numpy float32 arrays); the division is float64.
    const q = roundHalfToEven(bias[i]! / scales[perChannel ? i : 0]!);
    if (q < INT32_MIN || q > INT32_MAX) clipped = true;
    data[i] = q < INT32_MIN ? INT32_MIN : q > INT32_MAX ? INT32_MAX : q;
  }
  return { scales, data, clipped };
}
