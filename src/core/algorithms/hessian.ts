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
    for (let i = 0; i < n; i++) {
      const ti = i * CHUNK;
      const si = i * n;
      for (let j = i; j < n; j++) {
        const tj = j * CHUNK;
        let acc = 0;
        for (let r = 0; r < c; r++) acc += t[ti + r]! * t[tj + r]!;
        s[si + j]! += acc;
      }
    }
  }
  m.rows += count;
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
  const d = new Float64Array(cols);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) d[c] = w[r * cols + c]! - wq[r * cols + c]!;
    for (let i = 0; i < cols; i++) {
      const di = d[i]!;
      if (di === 0) continue;
      let acc = 0;
      const hi = i * cols;
      for (let j = 0; j < cols; j++) acc += h[hi + j]! * d[j]!;
      total += di * acc;
    }
  }
  return total;
}
