/**
 * Streaming second moments of a layer's inputs: S = Σ xᵢ xᵢᵀ over every input row xᵢ (a token of a
 * MatMul/Gemm input, or an im2col patch of a Conv input), and the row count. Only S is held (cols²
 * float64), never the inputs: GPTQ's Hessian of ||WX − ŴX||² is H = 2/n · S (IST-DASLab/gptq
 * gptq.py add_batch, commit 9f2abd3, which rescales a running mean; the scale cancels in GPTQ's
 * damping and Cholesky factors, so the sum and a count are enough).
 */
export interface InputMoments {
  readonly cols: number;
  /** Σ x xᵀ, upper triangle filled while accumulating; symmetric after `hessian`. */
  readonly sum: Float64Array;
  /** Σ x (the mean input, for bias correction). */
  readonly sumRow: Float64Array;
  rows: number;
}

export function createMoments(cols: number): InputMoments {
  return { cols, sum: new Float64Array(cols * cols), sumRow: new Float64Array(cols), rows: 0 };
}

const CHUNK = 64;

/**
 * Adds `count` rows of `cols` values (row-major, float32 or float64) to the moments. Rows are taken in
 * chunks, transposed so that each entry of S is one contiguous dot product.
 */
export function accumulateRows(m: InputMoments, x: ArrayLike<number>, count: number, offset = 0): void {
  const n = m.cols;
  const t = new Float64Array(n * CHUNK);
  const s = m.sum;
  for (let r0 = 0; r0 < count; r0 += CHUNK) {
    const c = Math.min(CHUNK, count - r0);
    for (let r = 0; r < c; r++) {
      const base = offset + (r0 + r) * n;
      for (let j = 0; j < n; j++) {
        const v = x[base + j]!;
        t[j * CHUNK + r] = v;
        m.sumRow[j]! += v;
      }
    }
    addGram(t, n, c, s);
  }
  m.rows += count;
}

/**
 * s[i][j] += Σ_{r<c} t[i][r] · t[j][r] for j ≥ i (t: n rows of CHUNK values). Two rows i by four rows j
 * a pass, so that six loads feed eight products; each entry is one sum over r ascending, as the plain
 * loop's.
 */
function addGram(t: Float64Array, n: number, c: number, s: Float64Array): void {
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const t0 = i * CHUNK;
    const t1 = t0 + CHUNK;
    const s0 = i * n;
    const s1 = s0 + n;
    // the corner: (i, i), (i, i+1), (i+1, i+1)
    let a = 0;
    let b = 0;
    let d = 0;
    for (let r = 0; r < c; r++) {
      const u = t[t0 + r]!;
      const v = t[t1 + r]!;
      a += u * u;
      b += u * v;
      d += v * v;
    }
    s[s0 + i]! += a;
    s[s0 + i + 1]! += b;
    s[s1 + i + 1]! += d;
    let j = i + 2;
    for (; j + 3 < n; j += 4) {
      const u0 = j * CHUNK;
      const u1 = u0 + CHUNK;
      const u2 = u1 + CHUNK;
      const u3 = u2 + CHUNK;
      let p0 = 0;
      let p1 = 0;
      let p2 = 0;
      let p3 = 0;
      let q0 = 0;
      let q1 = 0;
      let q2 = 0;
      let q3 = 0;
      for (let r = 0; r < c; r++) {
        const x = t[t0 + r]!;
        const y = t[t1 + r]!;
        const v0 = t[u0 + r]!;
        const v1 = t[u1 + r]!;
        const v2 = t[u2 + r]!;
        const v3 = t[u3 + r]!;
        p0 += x * v0;
        p1 += x * v1;
        p2 += x * v2;
        p3 += x * v3;
        q0 += y * v0;
        q1 += y * v1;
        q2 += y * v2;
        q3 += y * v3;
      }
      s[s0 + j]! += p0;
      s[s0 + j + 1]! += p1;
      s[s0 + j + 2]! += p2;
      s[s0 + j + 3]! += p3;
      s[s1 + j]! += q0;
      s[s1 + j + 1]! += q1;
      s[s1 + j + 2]! += q2;
      s[s1 + j + 3]! += q3;
    }
    for (; j < n; j++) {
      const u = j * CHUNK;
      let p = 0;
      let q = 0;
      for (let r = 0; r < c; r++) {
        p += t[t0 + r]! * t[u + r]!;
        q += t[t1 + r]! * t[u + r]!;
      }
      s[s0 + j]! += p;
      s[s1 + j]! += q;
    }
  }
  if (i < n) {
    const ti = i * CHUNK;
    let acc = 0;
    for (let r = 0; r < c; r++) acc += t[ti + r]! * t[ti + r]!;
    s[i * n + i]! += acc;
  }
}

/** Merges b into a (two workers' or two passes' moments). */
export function mergeMoments(a: InputMoments, b: InputMoments): void {
  for (let i = 0; i < a.sum.length; i++) a.sum[i]! += b.sum[i]!;
  for (let i = 0; i < a.sumRow.length; i++) a.sumRow[i]! += b.sumRow[i]!;
  a.rows += b.rows;
}

/**
 * The full symmetric matrix scale · S. GPTQ uses scale 2/n (the Hessian of the summed squared error
 * per row); AdaRound's loss (AIMET: mean over rows of ||ΔW x||²) uses 1/n.
 */
export function momentMatrix(m: InputMoments, scale: number): Float64Array {
  const n = m.cols;
  const h = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = m.sum[i * n + j]! * scale;
      h[i * n + j] = v;
      h[j * n + i] = v;
    }
  }
  return h;
}

export function meanInput(m: InputMoments): Float64Array {
  return m.sumRow.map((v) => (m.rows > 0 ? v / m.rows : 0));
}

export function gptqHessian(m: InputMoments): Float64Array {
  return momentMatrix(m, m.rows > 0 ? 2 / m.rows : 0);
}

/**
 * tr(ΔW H ΔWᵀ) for ΔW = W − Ŵ ([rows, cols]): with H = Σ x xᵀ this is Σᵢ ||W xᵢ − Ŵ xᵢ||², the layer's
 * reconstruction error on its calibration inputs, computed without them.
 */
export function reconstructionError(
  w: ArrayLike<number>,
  wq: ArrayLike<number>,
  rows: number,
  cols: number,
  h: Float64Array,
): number {
  const d = new Float64Array(rows * cols);
  for (let i = 0; i < d.length; i++) d[i] = w[i]! - wq[i]!;
  return quadraticForms(d, rows, cols, h, null);
}

const FORM_ROWS = 4;

/**
 * Σ_r d_r H d_rᵀ over the rows d_r of d ([rows, cols], H symmetric [cols, cols]); with `grad`, also
 * grad = 2 d H (the gradient of the sum). Each (H d_r)_i is one sum over j ascending and the total runs
 * over r, then i, as the plain row-by-row loop's, bit for bit; four rows of d by two rows of H a pass,
 * so that six loads feed eight products.
 */
export function quadraticForms(
  d: Float64Array,
  rows: number,
  cols: number,
  h: Float64Array,
  grad: Float64Array | null,
): number {
  const hd = new Float64Array(FORM_ROWS * cols); // (H d_r)_i for the block's rows
  let total = 0;
  for (let r0 = 0; r0 < rows; r0 += FORM_ROWS) {
    const count = Math.min(FORM_ROWS, rows - r0);
    if (count === FORM_ROWS) {
      const d0 = r0 * cols;
      const d1 = d0 + cols;
      const d2 = d1 + cols;
      const d3 = d2 + cols;
      let i = 0;
      for (; i + 1 < cols; i += 2) {
        const h0 = i * cols;
        const h1 = h0 + cols;
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let b0 = 0;
        let b1 = 0;
        let b2 = 0;
        let b3 = 0;
        for (let j = 0; j < cols; j++) {
          const x = h[h0 + j]!;
          const y = h[h1 + j]!;
          const v0 = d[d0 + j]!;
          const v1 = d[d1 + j]!;
          const v2 = d[d2 + j]!;
          const v3 = d[d3 + j]!;
          a0 += x * v0;
          a1 += x * v1;
          a2 += x * v2;
          a3 += x * v3;
          b0 += y * v0;
          b1 += y * v1;
          b2 += y * v2;
          b3 += y * v3;
        }
        hd[i] = a0;
        hd[cols + i] = a1;
        hd[2 * cols + i] = a2;
        hd[3 * cols + i] = a3;
        hd[i + 1] = b0;
        hd[cols + i + 1] = b1;
        hd[2 * cols + i + 1] = b2;
        hd[3 * cols + i + 1] = b3;
      }
      for (; i < cols; i++)
        for (let r = 0; r < FORM_ROWS; r++) hd[r * cols + i] = rowDot(h, i * cols, d, (r0 + r) * cols, cols);
    } else {
      for (let r = 0; r < count; r++)
        for (let i = 0; i < cols; i++) hd[r * cols + i] = rowDot(h, i * cols, d, (r0 + r) * cols, cols);
    }
    for (let r = 0; r < count; r++) {
      const dr = (r0 + r) * cols;
      for (let i = 0; i < cols; i++) {
        const acc = hd[r * cols + i]!;
        total += d[dr + i]! * acc;
        if (grad) grad[dr + i] = 2 * acc;
      }
    }
  }
  return total;
}

function rowDot(h: Float64Array, hi: number, d: Float64Array, di: number, cols: number): number {
  let acc = 0;
  for (let j = 0; j < cols; j++) acc += h[hi + j]! * d[di + j]!;
  return acc;
}
