/**
 * Empirical bias correction (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization
 * and Bias Correction", §4.2; AIMET's empirical variant measures the shift on data): quantizing W to Ŵ
 * shifts a linear layer's output by E[(Ŵ − W) x] = (Ŵ − W) E[x] per output channel. Subtracting that
 * from the bias makes the mean output error on the calibration inputs zero. E[x] is the mean of the
 * layer's input rows (im2col patches for Conv, padding zeros included: core/algorithms/hessian.ts).
 */
import { QuantscopeError } from '../errors';

/** The per-output-channel correction c = (Ŵ − W) · mean: the new bias is b − c. */
export function biasCorrection(
  weight: ArrayLike<number>,
  quantized: ArrayLike<number>,
  rows: number,
  cols: number,
  meanInput: ArrayLike<number>,
): Float64Array {
  if (weight.length !== rows * cols || quantized.length !== rows * cols || meanInput.length !== cols)
    throw new QuantscopeError('BAD_TENSOR', `bias correction: a [${rows}, ${cols}] weight needs ${cols} input means`);
  const c = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let k = 0; k < cols; k++) acc += (quantized[r * cols + k]! - weight[r * cols + k]!) * meanInput[k]!;
    c[r] = acc;
  }
  return c;
}

/** b − c as float32 (a missing bias is zero). */
export function correctedBias(bias: ArrayLike<number> | null, correction: Float64Array): Float32Array {
  return Float32Array.from(correction, (c, r) => (bias ? bias[r]! : 0) - c);
}
