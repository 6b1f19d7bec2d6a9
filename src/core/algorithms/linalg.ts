/**
 * Dense symmetric linear algebra over Float64Array, row-major n×n, for the Hessian-based weight
 * rounding (GPTQ, AdaRound). Plain loops: the matrices are a layer's input width (≤ a few thousand).
 */
import { QuantscopeError } from '../errors';

const CHOLESKY_BLOCK = 32;

/**
 * Lower Cholesky factor L (A = L Lᵀ) of a symmetric positive definite matrix, in a new array
 * (Cholesky–Crout: L[i][j] = (A[i][j] − Σ_{k<j} L[i][k] L[j][k]) / L[j][j]). Columns are taken in blocks
 * of CHOLESKY_BLOCK: the block's own triangle first, column by column, then for each row below it the
 * part of every block column's sum over k before the block (row i read once for all of them, four
 * columns a pass), then the block's own terms. Each entry is still one running difference over k
 * ascending, so the result is the plain column-by-column loop's bit for bit, and the same pivot fails.
 */
export function choleskyLower(a: Float64Array, n: number, what = 'matrix'): Float64Array {
  const l = new Float64Array(n * n);
  const acc = new Float64Array(CHOLESKY_BLOCK);
  for (let j0 = 0; j0 < n; j0 += CHOLESKY_BLOCK) {
    const j1 = Math.min(n, j0 + CHOLESKY_BLOCK);
    // the block's triangle
    for (let j = j0; j < j1; j++) {
      const rj = j * n;
      let d = a[rj + j]!;
      for (let k = 0; k < j; k++) d -= l[rj + k]! * l[rj + k]!;
      if (!(d > 0))
        throw new QuantscopeError(
          'BAD_RANGE',
          `the ${what} is not positive definite (pivot ${j} is ${d}): add damping`,
        );
      const ljj = Math.sqrt(d);
      l[rj + j] = ljj;
      for (let i = j + 1; i < j1; i++) {
        const ri = i * n;
        let s = a[ri + j]!;
        for (let k = 0; k < j; k++) s -= l[ri + k]! * l[rj + k]!;
        l[ri + j] = s / ljj;
      }
    }
    // the rows below it
    for (let i = j1; i < n; i++) {
      const ri = i * n;
      let c = j0;
      for (; c + 3 < j1; c += 4) {
        const r0 = c * n;
        const r1 = r0 + n;
        const r2 = r1 + n;
        const r3 = r2 + n;
        let s0 = a[ri + c]!;
        let s1 = a[ri + c + 1]!;
        let s2 = a[ri + c + 2]!;
        let s3 = a[ri + c + 3]!;
        for (let k = 0; k < j0; k++) {
          const v = l[ri + k]!;
          s0 -= v * l[r0 + k]!;
          s1 -= v * l[r1 + k]!;
          s2 -= v * l[r2 + k]!;
          s3 -= v * l[r3 + k]!;
        }
        acc[c - j0] = s0;
        acc[c - j0 + 1] = s1;
        acc[c - j0 + 2] = s2;
        acc[c - j0 + 3] = s3;
      }
      for (; c < j1; c++) {
        const rc = c * n;
        let s = a[ri + c]!;
        for (let k = 0; k < j0; k++) s -= l[ri + k]! * l[rc + k]!;
        acc[c - j0] = s;
      }
      for (let j = j0; j < j1; j++) {
        const rj = j * n;
        let s = acc[j - j0]!;
        for (let k = j0; k < j; k++) s -= l[ri + k]! * l[rj + k]!;
        l[ri + j] = s / l[rj + j]!;
      }
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

/**
 * The inverse X = L⁻¹ of a lower triangular matrix, returned transposed (xt[j·n + i] = X[i][j], upper
 * triangular): X[i][j] = (0 − Σ_{k=j}^{i−1} L[i][k] X[k][j]) / L[i][i], a dot product of row i of L with
 * row j of xt, both contiguous. Four columns j share each load of L's row (terms below a column's start
 * multiply xt's zeros and leave the sum as it was), and each sum runs over k ascending from +0, so X is
 * the row-by-row substitution's (lowerInverse's earlier form) bit for bit.
 */
export function lowerInverseTransposed(l: Float64Array, n: number): Float64Array {
  const xt = new Float64Array(n * n);
  const B = TRIANGULAR_BLOCK;
  let j0 = 0;
  for (; j0 + B <= n; j0 += B) {
    // the block's own triangle, one column at a time
    for (let j = j0; j < j0 + B; j++) substituteColumn(l, xt, n, j, j0 + B);
    // the rows below it, four columns a pass over row i of L (which stays in cache between passes)
    for (let q = j0; q < j0 + B; q += 4) {
      const x0 = q * n;
      const x1 = x0 + n;
      const x2 = x1 + n;
      const x3 = x2 + n;
      for (let i = j0 + B; i < n; i++) {
        const li = i * n;
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        for (let k = q; k < i; k++) {
          const v = l[li + k]!;
          a0 += v * xt[x0 + k]!;
          a1 += v * xt[x1 + k]!;
          a2 += v * xt[x2 + k]!;
          a3 += v * xt[x3 + k]!;
        }
        const d = l[li + i]!;
        xt[x0 + i] = (0 - a0) / d;
        xt[x1 + i] = (0 - a1) / d;
        xt[x2 + i] = (0 - a2) / d;
        xt[x3 + i] = (0 - a3) / d;
      }
    }
  }
  for (let j = j0; j < n; j++) substituteColumn(l, xt, n, j, n);
  return xt;
}

const TRIANGULAR_BLOCK = 32;

/** Column j of L⁻¹ (row j of xt) for rows j ≤ i < end, from the rows above them. */
function substituteColumn(l: Float64Array, xt: Float64Array, n: number, j: number, end: number): void {
  const xj = j * n;
  xt[xj + j] = 1 / l[j * n + j]!;
  for (let i = j + 1; i < end; i++) {
    const li = i * n;
    let acc = 0;
    for (let k = j; k < i; k++) acc += l[li + k]! * xt[xj + k]!;
    xt[xj + i] = (0 - acc) / l[li + i]!;
  }
}

/** The inverse of a lower triangular matrix (row-major, lower triangular). */
export function lowerInverse(l: Float64Array, n: number): Float64Array {
  const xt = lowerInverseTransposed(l, n);
  const x = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) x[i * n + j] = xt[j * n + i]!;
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
  const xt = lowerInverseTransposed(choleskyLower(r, n, what), n);
  // U[i][j] = X[n−1−i][n−1−j] = xt[(n−1−j)·n + n−1−i], copied in tiles (one side is strided)
  const u = new Float64Array(n * n);
  const T = 32;
  for (let i0 = 0; i0 < n; i0 += T)
    for (let j0 = i0; j0 < n; j0 += T)
      for (let j = j0; j < Math.min(n, j0 + T); j++) {
        const src = (n - 1 - j) * n + n - 1;
        for (let i = i0; i < Math.min(j + 1, i0 + T); i++) u[i * n + j] = xt[src - i]!;
      }
  return u;
}
