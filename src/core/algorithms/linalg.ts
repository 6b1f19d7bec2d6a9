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

/** The inverse of a lower triangular matrix, row by row (contiguous row updates). */
export function lowerInverse(l: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n * n);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    row.fill(0, 0, i + 1);
    row[i] = 1;
    const li = i * n;
    for (let k = 0; k < i; k++) {
      const c = l[li + k]!;
      if (c === 0) continue;
      const xk = k * n;
      for (let j = 0; j <= k; j++) row[j]! -= c * x[xk + j]!;
    }
    const d = l[li + i]!;
    for (let j = 0; j <= i; j++) x[li + j] = row[j]! / d;
  }
  return x;
}

/**
 * The upper Cholesky factor U of A⁻¹ (Uᵀ U = A⁻¹), what GPTQ needs, with one factorization and one
 * triangular inverse: with J the reversal permutation and J A J = L Lᵀ, A⁻¹ = (J L⁻¹ J)ᵀ (J L⁻¹ J) and
 * J L⁻¹ J is upper triangular with a positive diagonal, hence the factor. Equal to
 * cholesky(cholesky_inverse(cholesky(A)), upper=True) (the GPTQ reference's three steps) in exact
 * arithmetic, at about a third of the work.
 */
export function inverseUpperCholesky(a: Float64Array, n: number, what = 'matrix'): Float64Array {
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) r[i * n + j] = a[(n - 1 - i) * n + (n - 1 - j)]!;
  const x = lowerInverse(choleskyLower(r, n, what), n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) u[i * n + j] = x[(n - 1 - i) * n + (n - 1 - j)]!;
  return u;
}
