/**
 * SmoothQuant (Xiao et al. 2022, "SmoothQuant: Accurate and Efficient Post-Training Quantization for
 * Large Language Models", eq. 4; mit-han-lab/smoothquant smooth.py smooth_ln_fcs): for a MatMul/Gemm
 * Y = X W with X's channel j reaching max|X_j| and W's input row j max|W_j|,
 * s_j = max|X_j|^α / max|W_j|^(1−α) (max|W_j| and s clamped below at 1e-5 as the reference does), X' = X / s and
 * W' = diag(s) W, so X'W' = XW while X's outlier channels shrink and W absorbs them. The division by s
 * is folded into what produces X (a LayerNormalization's scale and bias, or a MatMul/Gemm's output
 * columns) or done by an inserted Mul.
 */
import { QuantscopeError } from '../errors';

export function smoothingScales(
  actAbsMax: ArrayLike<number>,
  weightAbsMax: ArrayLike<number>,
  alpha: number,
): Float32Array {
  if (!(alpha >= 0 && alpha <= 1))
    throw new QuantscopeError('BAD_RANGE', `SmoothQuant alpha ${alpha} must be in [0, 1]`);
  if (actAbsMax.length !== weightAbsMax.length)
    throw new QuantscopeError(
      'BAD_TENSOR',
      `SmoothQuant: ${actAbsMax.length} activation channels, ${weightAbsMax.length} weight rows`,
    );
  const s = new Float32Array(actAbsMax.length);
  for (let j = 0; j < s.length; j++) {
    const a = actAbsMax[j]!;
    const w = Math.max(weightAbsMax[j]!, 1e-5);
    const v = Math.pow(a, alpha) / Math.pow(w, 1 - alpha);
    s[j] = Math.max(v, 1e-5);
  }
  return s;
}
