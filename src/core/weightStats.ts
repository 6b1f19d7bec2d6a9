/**
 * Why per-tensor weights can ruin a layer: each output channel's min/max against the one range a
 * per-tensor scale must cover, and what each granularity costs on this weight (SQNR of the weight
 * quantized and dequantized, onnxruntime's weight rules: symmetric int8 by default).
 */
import type { IntDType } from './dtype';
import { sqnr } from './metrics';
import { axisGeometry, bitRange, dequantizeLinear, dequantizeLinearPerAxis, fakeQuantize } from './quantize';
import { channelRanges, quantizeWeightPerChannel, quantizeWeightPerTensor } from './weights';

export interface WeightGranularityReport {
  readonly channels: number;
  readonly mins: Float32Array;
  readonly maxs: Float32Array;
  /** The per-tensor range. */
  readonly min: number;
  readonly max: number;
  readonly absMax: number;
  readonly meanAbs: number;
  /** The channel with the largest |w|, and how many times the median channel's absmax it is. */
  readonly outlierChannel: number;
  readonly outlierRatio: number;
  readonly sqnrPerTensorDb: number;
  readonly sqnrPerChannelDb: number;
  /** Channels whose every value quantizes to 0 under the per-tensor scale. */
  readonly deadChannelsPerTensor: number;
}

export function weightGranularity(
  data: Float32Array,
  shape: readonly number[],
  axis: number,
  dtype: IntDType = 'int8',
  symmetric = true,
): WeightGranularityReport {
  const { mins, maxs } = channelRanges(data, shape, axis);
  let min = Infinity;
  let max = -Infinity;
  let sumAbs = 0;
  for (let i = 0; i < data.length; i++) sumAbs += Math.abs(data[i]!);
  for (let c = 0; c < mins.length; c++) {
    min = Math.min(min, mins[c]!);
    max = Math.max(max, maxs[c]!);
  }
  const absMaxes = Array.from(mins, (m, c) => Math.max(Math.abs(m), Math.abs(maxs[c]!)));
  const outlierChannel = absMaxes.indexOf(Math.max(...absMaxes));
  const sorted = [...absMaxes].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const perTensor = quantizeWeightPerTensor(data, { dtype, symmetric });
  const perChannel = quantizeWeightPerChannel(data, shape, axis, { dtype, symmetric });
  const tensorDq = dequantizeLinear(perTensor.data, perTensor.scales[0]!, perTensor.zeroPoints[0]!);
  const channelDq = dequantizeLinearPerAxis(perChannel.data, shape, axis, perChannel.scales, perChannel.zeroPoints);
  // a channel is dead when all its codes equal the zero point
  const { inner, outer } = axisGeometry(shape, axis);
  let dead = 0;
  const zp = perTensor.zeroPoints[0]!;
  for (let c = 0; c < mins.length; c++) {
    let alive = false;
    for (let o = 0; o < outer && !alive; o++) {
      const base = (o * mins.length + c) * inner;
      for (let k = 0; k < inner; k++) {
        if (perTensor.data[base + k] !== zp) {
          alive = true;
          break;
        }
      }
    }
    if (!alive && absMaxes[c]! > 0) dead++;
  }
  return {
    channels: mins.length,
    mins,
    maxs,
    min,
    max,
    absMax: Math.max(Math.abs(min), Math.abs(max)),
    meanAbs: data.length ? sumAbs / data.length : 0,
    outlierChannel,
    outlierRatio: median > 0 ? absMaxes[outlierChannel]! / median : Infinity,
    sqnrPerTensorDb: sqnr(data, tensorDq),
    sqnrPerChannelDb: sqnr(data, channelDq),
    deadChannelsPerTensor: dead,
  };
}

/**
 * Symmetric fake quantization of a weight at any bit width and granularity, for comparing them:
 * one scale for the tensor, one per slice along `axis`, or one per block of `blockSize` consecutive
 * values within each slice (row-major order of the slice, as MatMulNBits blocks along K). Scales are
 * max|w| / qmax on the restricted grid [-qmax, qmax].
 */
export function fakeQuantizeWeight(
  data: Float32Array,
  shape: readonly number[],
  bits: number,
  granularity:
    { kind: 'tensor' } | { kind: 'channel'; axis: number } | { kind: 'block'; axis: number; blockSize: number },
): Float32Array {
  const { qmax } = bitRange(bits, true, true);
  const out = new Float32Array(data.length);
  const quantizeGroup = (indices: (k: number) => number, n: number) => {
    let amax = 0;
    for (let k = 0; k < n; k++) amax = Math.max(amax, Math.abs(data[indices(k)]!));
    const scale = amax > 0 ? amax / qmax : 1;
    for (let k = 0; k < n; k++) {
      const i = indices(k);
      out[i] = fakeQuantize(data[i]!, scale, 0, -qmax, qmax);
    }
  };
  if (granularity.kind === 'tensor') {
    quantizeGroup((k) => k, data.length);
    return out;
  }
  const { outer, channels, inner } = axisGeometry(shape, granularity.axis);
  const perChannel = outer * inner;
  // element k of channel c, in the slice's row-major order
  const at = (c: number, k: number) => (Math.floor(k / inner) * channels + c) * inner + (k % inner);
  for (let c = 0; c < channels; c++) {
    if (granularity.kind === 'channel') quantizeGroup((k) => at(c, k), perChannel);
    else
      for (let start = 0; start < perChannel; start += granularity.blockSize)
        quantizeGroup((k) => at(c, start + k), Math.min(granularity.blockSize, perChannel - start));
  }
  return out;
}
