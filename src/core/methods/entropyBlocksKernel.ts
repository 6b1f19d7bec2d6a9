/**
 * The WebAssembly SIMD kernel for the entropy first pass (src/core/entropyBlocksKernel.wat, assembled
 * at build time by scripts/build-wasm.mjs): a histogram's prefix sums, the same as tablesOf's, the
 * block sums of a run width, the same rows as buildBlockSums's JavaScript loop, and its candidates'
 * scores, blockedScore's within 1e-13 (its own logarithm), the first two bit for bit. Loaded once,
 * synchronously (3.9 KB, within the browsers' 4 KB limit for synchronous compiles on a page's thread:
 * no room left for more), as histogramKernel.ts loads the fold's kernel. Where WebAssembly SIMD is
 * missing, these answer null (or undefined) and the caller runs the JavaScript.
 */
import { WASM_BASE64 } from '../entropyBlocksKernel.wasm';
import { LOG_TABLE } from './logTable';
import { instantiateSimdKernel, lazyKernel, type KernelKind } from '../wasmKernel';
import { LOG_EPS, type Tables } from './entropyFastTables';

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  short(h: number, z: number, rows: number, levels: number, m: number, W: number, epsM: number): void;
  full(h: number, z: number, rows: number, levels: number, m: number, W: number, epsM: number): void;
  tables(hist: number, n: number, levels: number): number;
  score(
    H: number,
    n: number,
    nq: number,
    rows: number,
    lowPos: number,
    fields: number,
    m: number,
    i: number,
    last: number,
    out: number,
    logTotal: number,
    logEps: number,
    logt: number,
  ): void;
  ln2(a: number, b: number, logt: number): number;
}

export type BlockSumsKernelKind = KernelKind;

const kernels = lazyKernel(() => {
  // Math.log itself for levels past the table: the same bits as logCount's
  const k = instantiateSimdKernel<KernelExports>(WASM_BASE64, { m: { log: Math.log } });
  if (k) {
    reserve(k, TABLES_AT);
    new Float64Array(k.memory.buffer, 0, LEVELS * 8).set(levelTable());
    new Float64Array(k.memory.buffer, LOG_AT, 256).set(logReductionTable());
  }
  return k;
});
const active = (): KernelExports | null => kernels.active();

/** Which loop runs here: the WASM SIMD kernel, or JavaScript where it cannot load. */
export function blockSumsKernelKind(): BlockSumsKernelKind {
  return kernels.kind();
}

/** Tests and the bench compare both loops: 'js' turns the kernel off, null restores the default. */
export function forceBlockSumsKernel(kind: BlockSumsKernelKind | null): void {
  kernels.force(kind);
}

/** The levels the kernel's table holds: logTable.ts's. */
const LEVELS = LOG_TABLE.length;

/**
 * The kernel's level table: for v = 0..4095, log v and 1/v, (1/v)²/2, ((1/v)²·(1/v))/3, as
 * buildBlockSums computes them, then 1/(v·v) and 1/((v·v)·v), as tablesOf does (the same expressions,
 * so the same bits); v = 0 is never read.
 */
function levelTable(): Float64Array {
  const table = new Float64Array(LEVELS * 8);
  for (let v = 1; v < LEVELS; v++) {
    const g1 = 1 / v;
    const i2 = g1 * g1;
    table.set([LOG_TABLE[v]!, g1, i2 / 2, (i2 * g1) / 3, 1 / (v * v), 1 / (v * v * v)], v * 8);
  }
  return table;
}

/**
 * The scores' logarithm's table (the kernel's $ln2): for j = 0..127, 1/c and -log(1/c) with
 * c = 1 + (j + 1/2)/128, the centre of the j-th 128th of [1, 2).
 */
function logReductionTable(): Float64Array {
  const table = new Float64Array(256);
  for (let j = 0; j < 128; j++) {
    const inverse = 1 / (1 + (j + 0.5) / 128);
    table[2 * j] = inverse;
    table[2 * j + 1] = -Math.log(inverse);
  }
  return table;
}

/**
 * Memory: the level table (bytes 0..256 KiB), the logarithm's (2 KiB), then the n counts and the
 * seven prefix arrays of tablesOf (H, Z, A, L, R1, R2, R3, n + 1 float64 each), then the scores
 * (n + 1), then the block rows (up to (n + 1)·10). The whole of it is reserved before a search makes
 * views of it: no growth (which would detach them) while one runs.
 */
const LOG_AT = LEVELS * 64;
const TABLES_AT = LOG_AT + 2048;
const layout = (n: number) => {
  const H = TABLES_AT + n * 8;
  const out = H + 7 * (n + 1) * 8;
  const rows = out + (n + 1) * 8;
  return { H, Z: H + (n + 1) * 8, out, rows, end: rows + (n + 1) * 10 * 8 };
};
let prefixOf: { readonly H: Float64Array; readonly Z: Float64Array } | null = null;

function reserve(k: KernelExports, bytes: number): void {
  const memory = k.memory;
  if (memory.buffer.byteLength < bytes) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
    prefixOf = null;
  }
}

/**
 * The block sums of buildBlockSums (entropyFastBlocks.ts) for run width m over [lowPos, highPos) of
 * the prefix sums H and Z, `fields` 7 (short) or 10 (full) a row, as a view of the kernel's memory
 * valid until the next call; null without the kernel (the caller runs the JavaScript loop).
 */
export function blockSumsWasm(
  tables: { readonly H: Float64Array; readonly Z: Float64Array },
  m: number,
  lowPos: number,
  highPos: number,
  fields: 7 | 10,
  epsM: number,
): Float64Array | null {
  const k = active();
  if (!k) return null;
  const n = tables.H.length - 1;
  const at = layout(n);
  reserve(k, at.end);
  const memory = k.memory;
  // the prefix sums are copied once a histogram (every run width of its search reads the same), and
  // not at all when the kernel built them (tablesWasm)
  if (prefixOf !== tables) {
    if (tables.H.buffer !== memory.buffer || tables.H.byteOffset !== at.H) {
      new Float64Array(memory.buffer, at.H, n + 1).set(tables.H);
      new Float64Array(memory.buffer, at.Z, n + 1).set(tables.Z);
    }
    prefixOf = tables;
  }
  const W = highPos - lowPos;
  const size = (W + 1) * fields;
  const rows = new Float64Array(memory.buffer, at.rows, size);
  rows.fill(0, 0, m * fields);
  const run = fields === 7 ? k.short : k.full;
  run(at.H + lowPos * 8, at.Z + lowPos * 8, at.rows, 0, m, W, epsM);
  return rows;
}

/**
 * tablesOf (entropyFastTables.ts) built by the kernel over a copy of `hist` in its memory, bit for
 * bit, where `scoreWidthWasm` reads them (views valid for one search: until the next call); null for
 * a fractional count (as tablesOf), undefined without the kernel.
 */
export function tablesWasm(hist: Float64Array): Tables | null | undefined {
  const k = active();
  if (!k) return undefined;
  const n = hist.length;
  const at = layout(n);
  reserve(k, at.end);
  const buffer = k.memory.buffer;
  const counts = new Float64Array(buffer, TABLES_AT, n);
  counts.set(hist);
  if (!k.tables(TABLES_AT, n, 0)) return null;
  const row = (r: number) => new Float64Array(buffer, at.H + r * (n + 1) * 8, n + 1);
  const H = row(0);
  const total = H[n]!;
  const t: Tables = {
    hist: counts,
    H,
    Z: row(1),
    A: row(2),
    L: row(3),
    R1: row(4),
    R2: row(5),
    R3: row(6),
    total,
    logTotal: Math.log(total),
  };
  prefixOf = t; // H and Z are where blockSumsWasm reads them
  return t;
}

/**
 * blockedScore (entropyFastBlocks.ts) for candidates i..last, which share the run width of the block
 * sums `g` (the view blockSumsWasm returned last, over tables from tablesWasm), into out[i - half ..]:
 * within 1e-13 (the kernel's logarithm), NaN where blockedScore answers null (the same decisions, taken
 * before any logarithm; the caller scores those in JS). False when `t`
 * or `g` is not in the kernel's memory (nothing written).
 */
export function scoreWidthWasm(
  t: Tables,
  g: { readonly rows: Float64Array; readonly lowPos: number; readonly fields: number; readonly m: number },
  nq: number,
  i: number,
  last: number,
  out: Float64Array,
): boolean {
  const k = active();
  const n = t.hist.length;
  if (!k || t.H.buffer !== k.memory.buffer || g.rows.buffer !== k.memory.buffer) return false;
  const at = layout(n);
  k.score(at.H, n, nq, g.rows.byteOffset, g.lowPos, g.fields, g.m, i, last, at.out, t.logTotal, LOG_EPS, LOG_AT);
  out.set(new Float64Array(k.memory.buffer, at.out, last - i + 1), i - Math.floor(nq / 2));
  return true;
}

/** The scores' own logarithm (the kernel's $ln2, lane 0 of (x, y)), for its accuracy test; null without the kernel. */
export function kernelLog(x: number, y = x): number | null {
  const k = active();
  return k ? k.ln2(x, y, LOG_AT) : null;
}
