/**
 * Block-wise weight quantization: one scale (and zero point) per block of `blockSize` consecutive
 * values along the reduction axis of each row of a [rows, cols] matrix, in two named conventions:
 *
 *  - `qdq` (onnxruntime's quantize_static rules, for DequantizeLinear with block_size, opset 21):
 *    symmetric uses the dtype's full range (int4 [-8, 7], int8 [-128, 127] unless restricted) through
 *    compute_scale_zp: scale = 2·max|w| / (qmax - qmin), zero point 0; asymmetric widens [min, max]
 *    to hold 0 and rounds the zero point half to even.
 *  - `matmulnbits` (com.microsoft MatMulNBits, onnxruntime's MatMul4BitsQuantizer / C++
 *    MlasQuantizeBlockwise): codes are unsigned [0, 2^bits - 1]; symmetric takes the block's value of
 *    largest magnitude *with its sign*, v, and scale = v / -2^(bits-1), so v lands exactly on code 0 and
 *    the implicit zero point is 2^(bits-1); asymmetric uses scale = (max - min) / (2^bits - 1) with
 *    min ≤ 0 ≤ max and zero point round(-min / scale), clamped.
 * A block whose values are all zero gets scale 1 (zero point as above), so that it dequantizes to 0.
 */
import { DTYPES, type IntDType } from './dtype';
import { QuantscopeError } from './errors';
import { computeScaleZeroPoint, quantRange } from './qparams';
import { f32, roundHalfToEven, saturate } from './rounding';

export type BlockConvention = 'qdq' | 'matmulnbits';

export interface BlockQuantized {
  readonly rows: number;
  readonly cols: number;
  readonly blockSize: number;
  readonly blocksPerRow: number;
  /** Codes, row-major [rows, cols]. */
  readonly q: Int32Array;
  /** [rows, blocksPerRow] float32 scales. */
  readonly scales: Float32Array;
  /** [rows, blocksPerRow] zero points (the implicit 2^(bits-1) for symmetric MatMulNBits). */
  readonly zeroPoints: Int32Array;
}

export function quantizeBlockwise(
  data: Float32Array,
  rows: number,
  cols: number,
  blockSize: number,
  opts: { dtype: IntDType; symmetric: boolean; convention: BlockConvention },
): BlockQuantized {
  if (!(blockSize >= 16 && (blockSize & (blockSize - 1)) === 0)) throw new QuantscopeError('BAD_RANGE', `block size ${blockSize} must be a power of two, at least 16`);
  if (data.length !== rows * cols) throw new QuantscopeError('BAD_TENSOR', `a [${rows}, ${cols}] matrix has ${rows * cols} values, not ${data.length}`);
  const blocksPerRow = Math.ceil(cols / blockSize);
  const q = new Int32Array(rows * cols);
  const scales = new Float32Array(rows * blocksPerRow);
  const zeroPoints = new Int32Array(rows * blocksPerRow);
  const { min: tmin, max: tmax } = DTYPES[opts.dtype];
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocksPerRow; b++) {
      const start = r * cols + b * blockSize;
      const end = r * cols + Math.min(cols, (b + 1) * blockSize);
      let lo = 0;
      let hi = 0;
      let signedMax = 0;
      for (let i = start; i < end; i++) {
        const v = data[i]!;
        if (Number.isNaN(v) || !Number.isFinite(v)) throw new QuantscopeError('NON_FINITE', `weight value ${v} at row ${r}, column ${i - r * cols} cannot be quantized`);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (Math.abs(v) > Math.abs(signedMax)) signedMax = v;
      }
      let scale: number;
      let zp: number;
      if (opts.convention === 'matmulnbits') {
        const levels = tmax - tmin; // e.g. 15 for 4 bits
        const mid = Math.floor((levels + 1) / 2); // 8
        if (opts.symmetric) {
          scale = signedMax === 0 ? 1 : f32(signedMax / -mid);
          zp = mid;
        } else {
          scale = hi > lo ? f32((hi - lo) / levels) : 1;
          zp = saturate(roundHalfToEven(-lo / scale), 0, levels);
        }
        for (let i = start; i < end; i++) q[i] = saturate(roundHalfToEven(f32(data[i]! / scale)) + zp, 0, levels);
      } else {
        const p = computeScaleZeroPoint(lo, hi, quantRange(opts.dtype, { symmetric: opts.symmetric }), opts.symmetric);
        scale = p.scale;
        zp = p.zeroPoint;
        for (let i = start; i < end; i++) q[i] = saturate(roundHalfToEven(f32(data[i]! / scale)) + zp, tmin, tmax);
      }
      scales[r * blocksPerRow + b] = scale;
      zeroPoints[r * blocksPerRow + b] = zp;
    }
  }
  return { rows, cols, blockSize, blocksPerRow, q, scales, zeroPoints };
}

/** The values a block-quantized matrix stands for. */
export function dequantizeBlockwise(b: BlockQuantized): Float32Array {
  const out = new Float32Array(b.rows * b.cols);
  for (let r = 0; r < b.rows; r++) {
    for (let c = 0; c < b.cols; c++) {
      const k = r * b.blocksPerRow + Math.floor(c / b.blockSize);
      out[r * b.cols + c] = (b.q[r * b.cols + c]! - b.zeroPoints[k]!) * b.scales[k]!;
    }
  }
  return out;
}
