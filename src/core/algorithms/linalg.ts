/**
 * Dense symmetric linear algebra over Float64Array, row-major n×n, for the Hessian-based weight
 * rounding (GPTQ, AdaRound). Plain loops: the matrices are a layer's input width (≤ a few thousand).
 */
import { QuantscopeError } from '../errors';

/** Lower Cholesky factor L (A = L Lᵀ) of a symmetric positive definite matrix, in a new array. */
export function choleskyLower(a: Float64Array, n: number, what = 'matrix'): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j]!;
    for (let k = 0; k < j; k++) d -= l[rj + k]! * l[rj + k]!;
    if (!(d > 0))
      throw new QuantscopeError('BAD_RANGE', `the ${what} is not positive definite (pivot ${j} is ${d}): add damping`);
    const ljj = Math.sqrt(d);
    l[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= l[ri + k]! * l[rj + k]!;
      l[ri + j] = s / ljj;
    }
  }
  return l;
}

/** A⁻¹ from A's lower Cholesky factor (torch.cholesky_inverse): inv(L) first, then inv(L)ᵀ inv(L). */
export function choleskyInverse(l: Float64Array, n: number): Float64Array {
  const li = new Float64Array(n * n); // inverse of L, lower triangular
  for (let j = 0; j < n; j++) {
    li[j * n + j] = 1 / l[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += l[i * n + k]! * li[k * n + j]!;
      li[i * n + j] = -s / l[i * n + i]!;
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += li[k * n + i]! * li[k * n + j]!;
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}

/** Upper Cholesky factor U (A = Uᵀ U), i.e. the transpose of the lower factor. */
export function choleskyUpper(a: Float64Array, n: number, what = 'matrix'): Float64Array {
  const l = choleskyLower(a, n, what);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) u[j * n + i] = l[i * n + j]!;
  return u;
}
