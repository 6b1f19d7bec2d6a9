/**
 * AdaRound (Nagel et al. 2020, "Up or Down? Adaptive Rounding for Post-Training Quantization"), ported
 * from AIMET (quic/aimet TrainingExtensions/torch/src/python/aimet_torch/adaround: adaround_loss.py
 * commit 5ed52fbeb3294b1fadb0b9e0a455bd069c3ff1d0, adaround_optimizer.py 033ae2f56eb4b3e4b5e266b095b16954ac2d44cb,
 * adaround_tensor_quantizer.py 020edc406c6b71b8b2f5142cc261a1bd8abd363c):
 *  - each weight is floor(w/s) + h(V) on the fixed grid of round-to-nearest, h(V) = clip(σ(V)(ζ−γ)+γ, 0, 1),
 *    ζ = 1.1, γ = −0.1, V initialised so that h(V) equals w/s − floor(w/s);
 *  - loss = recon + reg · Σ (1 − |2h − 1|^β), the regulariser off for the first `warmStart` (20%) of the
 *    iterations, β annealed by a cosine from 20 to 2 after it; reg 0.01; Adam (torch defaults: lr 1e-3,
 *    betas 0.9/0.999, eps 1e-8); the result rounds up where V ≥ 0.
 *  - recon is AIMET's `(||ΔW x||²).mean()` over the layer's input rows, computed here from the input
 *    second moments M = 1/n Σ x xᵀ as tr(ΔW M ΔWᵀ), so its gradient 2 ΔW M is exactly the full-batch
 *    gradient (AIMET samples batches of 32 cached inputs; full batch is its expectation, and
 *    deterministic). No input is held: only M (cols² float64).
 * Without an activation function after the layer (AIMET's default for a layer's own output).
 */
import { quantizeCode } from '../blockwise';
import { QuantscopeError } from '../errors';
import { dtypeBounds, gridParams, groupColumns, groupOf, groupsPerRow, type GridOptions, type Grouping } from './grid';
import type { RoundedWeight } from './gptq';
import { quadraticForms } from './hessian';

export const ADAROUND_ZETA = 1.1;
export const ADAROUND_GAMMA = -0.1;

export interface AdaroundOptions extends GridOptions, Grouping {
  readonly iterations: number;
  /** Default 0.01. */
  readonly regParam?: number;
  /** Default [20, 2]. */
  readonly betaRange?: readonly [number, number];
  /** Default 0.2. */
  readonly warmStart?: number;
  /** Adam's learning rate (default 1e-3, torch.optim.Adam's, which AIMET uses). */
  readonly learningRate?: number;
  /** Called every few iterations with the iteration count; return false to stop (cancel). */
  readonly onProgress?: (iteration: number) => boolean | void;
}

export interface AdaroundResult extends RoundedWeight {
  /** tr(ΔW M ΔWᵀ) with hard rounding, before (round-to-nearest) and after. */
  readonly reconBefore: number;
  readonly reconAfter: number;
}

/** AIMET's AdaroundLoss._compute_beta: cosine decay from start to end after the warm start. */
export function adaroundBeta(iterations: number, iter: number, range: readonly [number, number], warm: number): number {
  const w = warm * iterations;
  const rel = (iter - w) / (iterations - w);
  return range[1] + 0.5 * (range[0] - range[1]) * (1 + Math.cos(rel * Math.PI));
}

const recon = (delta: Float64Array, rows: number, cols: number, m: Float64Array, grad: Float64Array | null) =>
  quadraticForms(delta, rows, cols, m, grad);

/**
 * AdaRound of a [rows, cols] weight given M = 1/n Σ x xᵀ of its inputs (core/algorithms/hessian.ts
 * momentMatrix(m, 1/n)). The grid (scales, zero points) is round-to-nearest's.
 */
export function adaround(
  weight: ArrayLike<number>,
  rows: number,
  cols: number,
  moments: Float64Array,
  o: AdaroundOptions,
): AdaroundResult {
  if (weight.length !== rows * cols || moments.length !== cols * cols)
    throw new QuantscopeError('BAD_TENSOR', `AdaRound: a [${rows}, ${cols}] weight needs [${cols}, ${cols}] moments`);
  if (!(Number.isInteger(o.iterations) && o.iterations >= 1))
    throw new QuantscopeError('BAD_RANGE', `AdaRound: iterations must be a whole number ≥ 1, not ${o.iterations}`);
  const reg = o.regParam ?? 0.01;
  const betaRange = o.betaRange ?? [20, 2];
  const warm = o.warmStart ?? 0.2;
  const lr = o.learningRate ?? 1e-3;
  const grouping: Grouping = { groupSize: o.groupSize, segment: o.segment };
  const gpr = groupsPerRow(cols, grouping);
  const { tmin, tmax } = dtypeBounds(o.dtype);
  const n = rows * cols;
  const scales = new Float32Array(rows * gpr);
  const zps = new Int32Array(rows * gpr);
  for (let k = 0; k < gpr; k++) {
    const [c0, c1] = groupColumns(k, cols, grouping);
    for (let r = 0; r < rows; r++) {
      const p = gridParams(weight, cols, r, c0, c1, o);
      scales[r * gpr + k] = p.scale;
      zps[r * gpr + k] = p.zeroPoint;
    }
  }
  // per weight: delta (scale), floor(w/s), offset-shifted clamp bounds, V
  const s = new Float64Array(n);
  const fl = new Float64Array(n);
  const lo = new Float64Array(n); // clamp bounds of floor + h in grid units: [tmin − zp, tmax − zp]
  const hi = new Float64Array(n);
  const V = new Float64Array(n);
  const ZG = ADAROUND_ZETA - ADAROUND_GAMMA;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const g = r * gpr + groupOf(c, cols, grouping);
      const sc = scales[g]!;
      const x = weight[i]! / sc;
      const f = Math.floor(x);
      s[i] = sc;
      fl[i] = f;
      lo[i] = tmin - zps[g]!;
      hi[i] = tmax - zps[g]!;
      V[i] = -Math.log(ZG / (x - f - ADAROUND_GAMMA) - 1);
    }
  }
  const hard = (): Float64Array => {
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = Math.min(hi[i]!, Math.max(lo[i]!, fl[i]! + (V[i]! >= 0 ? 1 : 0)));
      d[i] = t * s[i]! - weight[i]!;
    }
    return d;
  };
  const rtn = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const g = r * gpr + groupOf(c, cols, grouping);
      rtn[i] = (quantizeCode(weight[i]!, scales[g]!, zps[g]!, tmin, tmax) - zps[g]!) * scales[g]! - weight[i]!;
    }
  }
  const reconBefore = recon(rtn, rows, cols, moments, null);

  const m1 = new Float64Array(n);
  const m2 = new Float64Array(n);
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  const delta = new Float64Array(n);
  const grad = new Float64Array(n);
  const dhdv = new Float64Array(n);
  const h = new Float64Array(n);
  for (let it = 0; it < o.iterations; it++) {
    for (let i = 0; i < n; i++) {
      const sg = 1 / (1 + Math.exp(-V[i]!));
      const raw = sg * ZG + ADAROUND_GAMMA;
      const hv = raw < 0 ? 0 : raw > 1 ? 1 : raw;
      h[i] = hv;
      // torch.clamp passes the gradient where min ≤ x ≤ max
      dhdv[i] = raw >= 0 && raw <= 1 ? sg * (1 - sg) * ZG : 0;
      const t = fl[i]! + hv;
      const inside = t >= lo[i]! && t <= hi[i]!;
      const tc = t < lo[i]! ? lo[i]! : t > hi[i]! ? hi[i]! : t;
      delta[i] = tc * s[i]! - weight[i]!;
      if (!inside) dhdv[i] = 0;
    }
    recon(delta, rows, cols, moments, grad);
    const regOn = it >= o.iterations * warm;
    const beta = regOn ? adaroundBeta(o.iterations, it, betaRange, warm) : 0;
    const t = it + 1;
    const c1 = 1 - Math.pow(b1, t);
    const c2 = 1 - Math.pow(b2, t);
    for (let i = 0; i < n; i++) {
      let gh = grad[i]! * s[i]!; // d recon / d h
      if (regOn) {
        const u = 2 * h[i]! - 1;
        const a = Math.abs(u);
        // d/dh of reg·(1 − |2h−1|^β) = −reg·β·|u|^(β−1)·sign(u)·2
        if (a > 0) gh += -reg * beta * Math.pow(a, beta - 1) * Math.sign(u) * 2;
      }
      const g = gh * dhdv[i]!;
      const mm = (m1[i] = b1 * m1[i]! + (1 - b1) * g);
      const vv = (m2[i] = b2 * m2[i]! + (1 - b2) * g * g);
      V[i]! -= (lr * (mm / c1)) / (Math.sqrt(vv / c2) + eps);
    }
    if (o.onProgress && (it & 15) === 15 && o.onProgress(it + 1) === false)
      throw new QuantscopeError('CANCELLED', 'AdaRound was cancelled');
  }
  const q = new Int32Array(n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const g = r * gpr + groupOf(c, cols, grouping);
      q[i] = Math.min(hi[i]!, Math.max(lo[i]!, fl[i]! + (V[i]! >= 0 ? 1 : 0))) + zps[g]!;
    }
  }
  return {
    rows,
    cols,
    grouping,
    q,
    scales,
    zeroPoints: zps,
    reconBefore,
    reconAfter: recon(hard(), rows, cols, moments, null),
  };
}
