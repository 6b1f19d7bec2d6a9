/**
 * GPTQ (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
 * Transformers"), ported from the authors' reference IST-DASLab/gptq gptq.py `fasterquant` (commit
 * 9f2abd32533c83079847435a7c971bb4420285c8) and quant.py (commit 2e22596c99dfcf415a3cb2535a674b76daa6e2c5):
 * columns of W [rows = outputs, cols = reduction] are rounded one at a time, and each column's rounding
 * error is spread over the columns not yet rounded through the upper Cholesky factor of H⁻¹, where
 * H = 2/n · Σ x xᵀ is the Hessian of the layer's squared output error on its calibration inputs.
 * Updates are applied lazily in blocks of `blockSize` columns (the reference's default 128).
 *
 * As in the reference: dead inputs (H_dd = 0) get H_dd = 1 and zero weights; damping adds
 * percDamp · mean(diag H) to the diagonal; per-group scales are found when the group's first column is
 * reached, from the weights as updated by the blocks before it (`find_params(W[:, i:i+groupsize])`);
 * with act-order (columns taken by decreasing H_dd) and groups, the groups are static (found on the
 * original order before rounding: the reference's `static_groups`), which is what a blocked
 * DequantizeLinear can store. Rounding is the export's QuantizeLinear (float32 division, half to even,
 * saturate) onto the grid of core/algorithms/grid.ts. Arithmetic is float64 throughout.
 */
import { quantizeCode } from '../blockwise';
import { QuantscopeError } from '../errors';
import { inverseUpperCholesky } from './linalg';
import { dtypeBounds, gridParams, groupColumns, groupOf, groupsPerRow, type GridOptions, type Grouping } from './grid';

export interface GptqOptions extends GridOptions, Grouping {
  /** Columns per lazy update (default 128, the reference's and onnxruntime's). */
  readonly blockSize?: number;
  /** Damping as a fraction of the mean Hessian diagonal (default 0.01). */
  readonly percDamp?: number;
  /** Round columns in order of decreasing Hessian diagonal (default false). */
  readonly actOrder?: boolean;
}

/** Rounded weights: codes [rows, cols] and one scale/zero point per row and group. */
export interface RoundedWeight {
  readonly rows: number;
  readonly cols: number;
  readonly grouping: Grouping;
  readonly q: Int32Array;
  /** [rows, groupsPerRow] */
  readonly scales: Float32Array;
  readonly zeroPoints: Int32Array;
}

export interface GptqResult extends RoundedWeight {
  /** The reference's `error`: Σ (w − q)² / (2 · U_cc²) over every weight. */
  readonly loss: number;
}

export function dequantizeRounded(r: RoundedWeight): Float32Array {
  const out = new Float32Array(r.rows * r.cols);
  const gpr = groupsPerRow(r.cols, r.grouping);
  for (let c = 0; c < r.cols; c++) {
    const k = groupOf(c, r.cols, r.grouping);
    for (let row = 0; row < r.rows; row++) {
      const i = row * gpr + k;
      out[row * r.cols + c] = (r.q[row * r.cols + c]! - r.zeroPoints[i]!) * r.scales[i]!;
    }
  }
  return out;
}

export function gptq(
  weight: ArrayLike<number>,
  rows: number,
  cols: number,
  hessian: Float64Array,
  o: GptqOptions,
): GptqResult {
  if (weight.length !== rows * cols || hessian.length !== cols * cols)
    throw new QuantscopeError('BAD_TENSOR', `GPTQ: a [${rows}, ${cols}] weight needs a [${cols}, ${cols}] Hessian`);
  const blockSize = o.blockSize ?? 128;
  const percDamp = o.percDamp ?? 0.01;
  if (!(blockSize >= 1) || !(percDamp >= 0))
    throw new QuantscopeError('BAD_RANGE', `GPTQ: block size ${blockSize} and damping ${percDamp} must be positive`);
  const grouping: Grouping = { groupSize: o.groupSize, segment: o.segment };
  const gpr = groupsPerRow(cols, grouping);
  const { tmin, tmax } = dtypeBounds(o.dtype);
  const W = Float64Array.from(weight);
  const H = Float64Array.from(hessian);
  const scales = new Float32Array(rows * gpr);
  const zps = new Int32Array(rows * gpr);
  const setGroup = (src: Float64Array, k: number, c0: number, c1: number) => {
    for (let r = 0; r < rows; r++) {
      const p = gridParams(src, cols, r, c0, c1, o);
      scales[r * gpr + k] = p.scale;
      zps[r * gpr + k] = p.zeroPoint;
    }
  };
  if (o.groupSize === null) setGroup(W, 0, 0, cols); // per channel: before dead columns are zeroed
  for (let d = 0; d < cols; d++) {
    if (H[d * cols + d] === 0) {
      H[d * cols + d] = 1;
      for (let r = 0; r < rows; r++) W[r * cols + d] = 0;
    }
  }
  const staticGroups = o.actOrder === true && o.groupSize !== null;
  if (staticGroups) for (let k = 0; k < gpr; k++) setGroup(W, k, ...groupColumns(k, cols, grouping));

  // act-order: process columns by decreasing H_dd (stable for ties)
  let perm: Int32Array | null = null;
  let Wp = W;
  let Hp = H;
  if (o.actOrder) {
    perm = Int32Array.from({ length: cols }, (_, i) => i).sort((a, b) => H[b * cols + b]! - H[a * cols + a]! || a - b);
    Wp = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) Wp[r * cols + c] = W[r * cols + perm[c]!]!;
    Hp = new Float64Array(cols * cols);
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) Hp[i * cols + j] = H[perm[i]! * cols + perm[j]!]!;
  }
  let mean = 0;
  for (let i = 0; i < cols; i++) mean += Hp[i * cols + i]!;
  const damp = (percDamp * mean) / cols;
  for (let i = 0; i < cols; i++) Hp[i * cols + i]! += damp;
  const U = inverseUpperCholesky(Hp, cols, 'damped Hessian');

  const Q = new Int32Array(rows * cols); // in processing order
  let loss = 0;
  for (let i1 = 0; i1 < cols; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, cols);
    const count = i2 - i1;
    const W1 = new Float64Array(rows * count);
    const E1 = new Float64Array(rows * count);
    for (let r = 0; r < rows; r++) for (let j = 0; j < count; j++) W1[r * count + j] = Wp[r * cols + i1 + j]!;
    for (let i = 0; i < count; i++) {
      const col = i1 + i;
      const orig = perm ? perm[col]! : col;
      const k = groupOf(orig, cols, grouping);
      if (o.groupSize !== null && !staticGroups) {
        const [c0, c1] = groupColumns(k, cols, grouping);
        if (c0 === col) setGroup(Wp, k, c0, c1); // the reference reads W (updated by earlier blocks only)
      }
      const ucc = U[col * cols + col]!;
      const urow = col * cols + i1;
      for (let r = 0; r < rows; r++) {
        const w = W1[r * count + i]!;
        const s = scales[r * gpr + k]!;
        const z = zps[r * gpr + k]!;
        const code = quantizeCode(w, s, z, tmin, tmax);
        Q[r * cols + col] = code;
        const diff = w - (code - z) * s;
        loss += (diff * diff) / (ucc * ucc) / 2;
        const err = diff / ucc;
        E1[r * count + i] = err;
        const wr = r * count;
        for (let j = i + 1; j < count; j++) W1[wr + j]! -= err * U[urow + j]!;
      }
    }
    // lazy batch update of the columns after the block: W[:, i2:] -= Err1 · U[i1:i2, i2:]
    if (i2 < cols) {
      for (let r = 0; r < rows; r++) {
        const wr = r * cols;
        for (let j = 0; j < count; j++) {
          const e = E1[r * count + j]!;
          if (e === 0) continue;
          const ur = (i1 + j) * cols;
          for (let c = i2; c < cols; c++) Wp[wr + c]! -= e * U[ur + c]!;
        }
      }
    }
  }
  let q = Q;
  if (perm) {
    q = new Int32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) q[r * cols + perm[c]!] = Q[r * cols + c]!;
  }
  return { rows, cols, grouping, q, scales, zeroPoints: zps, loss };
}

/** Round-to-nearest onto the same grid (the baseline GPTQ and AdaRound are measured against). */
export function roundToNearest(
  weight: ArrayLike<number>,
  rows: number,
  cols: number,
  o: GridOptions & Grouping,
): RoundedWeight {
  const grouping: Grouping = { groupSize: o.groupSize, segment: o.segment };
  const gpr = groupsPerRow(cols, grouping);
  const { tmin, tmax } = dtypeBounds(o.dtype);
  const scales = new Float32Array(rows * gpr);
  const zps = new Int32Array(rows * gpr);
  const q = new Int32Array(rows * cols);
  for (let k = 0; k < gpr; k++) {
    const [c0, c1] = groupColumns(k, cols, grouping);
    for (let r = 0; r < rows; r++) {
      const p = gridParams(weight, cols, r, c0, c1, o);
      scales[r * gpr + k] = p.scale;
      zps[r * gpr + k] = p.zeroPoint;
      for (let c = c0; c < c1; c++)
        q[r * cols + c] = quantizeCode(weight[r * cols + c]!, p.scale, p.zeroPoint, tmin, tmax);
    }
  }
  return { rows, cols, grouping, q, scales, zeroPoints: zps };
}
