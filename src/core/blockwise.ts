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
  /** Codes, row-major [rows, cols] (or, with layout 'columns', in the weight's own [cols, rows] layout). */
  readonly q: Int32Array;
  readonly layout?: 'rows' | 'columns';
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
  if (!(blockSize >= 16 && (blockSize & (blockSize - 1)) === 0))
    throw new QuantscopeError('BAD_RANGE', `block size ${blockSize} must be a power of two, at least 16`);
  if (data.length !== rows * cols)
    throw new QuantscopeError(
      'BAD_TENSOR',
      `a [${rows}, ${cols}] matrix has ${rows * cols} values, not ${data.length}`,
    );
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
        if (Number.isNaN(v) || !Number.isFinite(v))
          throw new QuantscopeError(
            'NON_FINITE',
            `weight value ${v} at row ${r}, column ${i - r * cols} cannot be quantized`,
          );
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
        for (let i = start; i < end; i++) q[i] = quantizeCode(data[i]!, scale, zp, 0, levels);
      } else {
        const p = computeScaleZeroPoint(lo, hi, quantRange(opts.dtype, { symmetric: opts.symmetric }), opts.symmetric);
        scale = p.scale;
        zp = p.zeroPoint;
        for (let i = start; i < end; i++) q[i] = quantizeCode(data[i]!, scale, zp, tmin, tmax);
      }
      scales[r * blocksPerRow + b] = scale;
      zeroPoints[r * blocksPerRow + b] = zp;
    }
  }
  return { rows, cols, blockSize, blocksPerRow, q, scales, zeroPoints };
}

/**
 * QuantizeLinear of one value, inlined for the hot loops: float32 division, round half to even,
 * saturate. Equal to saturate(roundHalfToEven(f32(x / scale)) + zp) for every finite x (the parity test
 * only matters at exact halves, which only arise within int32 range).
 */
export function quantizeCode(x: number, scale: number, zp: number, tmin: number, tmax: number): number {
  const v = Math.fround(x / scale);
  let r = Math.floor(v);
  const d = v - r;
  if (d > 0.5 || (d === 0.5 && (r & 1) !== 0)) r += 1;
  r += zp;
  return r < tmin ? tmin : r > tmax ? tmax : r;
}

/**
 * The same `qdq` block quantization for a weight stored [K, N] (MatMul's B, Gemm's B without transB):
 * rows are its N columns and blocks run along K, but the codes come back in the weight's own [K, N]
 * layout, and both passes walk memory in order (no transposed copies of a 100 MB weight). Scales and
 * zero points are [N, blocksPerRow] as quantizeBlockwise gives them.
 */
export function quantizeBlockwiseColumns(
  data: Float32Array,
  k: number,
  n: number,
  blockSize: number,
  opts: { dtype: IntDType; symmetric: boolean },
): BlockQuantized {
  if (!(blockSize >= 16 && (blockSize & (blockSize - 1)) === 0))
    throw new QuantscopeError('BAD_RANGE', `block size ${blockSize} must be a power of two, at least 16`);
  if (data.length !== k * n)
    throw new QuantscopeError('BAD_TENSOR', `a [${k}, ${n}] matrix has ${k * n} values, not ${data.length}`);
  const nb = Math.ceil(k / blockSize);
  const lo = new Float64Array(nb * n); // per (block, column), zero included as compute_scale_zp widens to it
  const hi = new Float64Array(nb * n);
  for (let kk = 0; kk < k; kk++) {
    const sb = Math.floor(kk / blockSize) * n;
    const base = kk * n;
    for (let c = 0; c < n; c++) {
      const v = data[base + c]!;
      if (!(v >= -Infinity && v <= Infinity) || v === Infinity || v === -Infinity) {
        throw new QuantscopeError('NON_FINITE', `weight value ${v} at row ${kk}, column ${c} cannot be quantized`);
      }
      if (v < lo[sb + c]!) lo[sb + c] = v;
      if (v > hi[sb + c]!) hi[sb + c] = v;
    }
  }
  const range = quantRange(opts.dtype, { symmetric: opts.symmetric });
  const sBC = new Float64Array(nb * n);
  const zBC = new Int32Array(nb * n);
  const scales = new Float32Array(n * nb);
  const zeroPoints = new Int32Array(n * nb);
  for (let b = 0; b < nb; b++) {
    for (let c = 0; c < n; c++) {
      const p = computeScaleZeroPoint(lo[b * n + c]!, hi[b * n + c]!, range, opts.symmetric);
      sBC[b * n + c] = p.scale;
      zBC[b * n + c] = p.zeroPoint;
      scales[c * nb + b] = p.scale;
      zeroPoints[c * nb + b] = p.zeroPoint;
    }
  }
  const { min: tmin, max: tmax } = DTYPES[opts.dtype];
  const q = new Int32Array(k * n);
  for (let kk = 0; kk < k; kk++) {
    const sb = Math.floor(kk / blockSize) * n;
    const base = kk * n;
    for (let c = 0; c < n; c++) q[base + c] = quantizeCode(data[base + c]!, sBC[sb + c]!, zBC[sb + c]!, tmin, tmax);
  }
  return { rows: n, cols: k, blockSize, blocksPerRow: nb, q, scales, zeroPoints, layout: 'columns' };
}

/** The values a block-quantized matrix stands for. */
export function dequantizeBlockwise(b: BlockQuantized): Float32Array {
  const out = new Float32Array(b.rows * b.cols);
  const at =
    b.layout === 'columns' ? (r: number, c: number) => c * b.rows + r : (r: number, c: number) => r * b.cols + c;
  for (let r = 0; r < b.rows; r++) {
    for (let c = 0; c < b.cols; c++) {
      const k = r * b.blocksPerRow + Math.floor(c / b.blockSize);
      out[at(r, c)] = (b.q[at(r, c)]! - b.zeroPoints[k]!) * b.scales[k]!;
    }
  }
  return out;
}
