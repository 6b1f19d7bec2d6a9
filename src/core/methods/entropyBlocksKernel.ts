/**
 * The WebAssembly SIMD kernel for the entropy first pass's block sums (src/core/entropyBlocksKernel.wat,
 * assembled at build time by scripts/build-wasm.mjs): the same rows as buildBlockSums's JavaScript
 * loop, bit for bit. Loaded once, synchronously (under 1 KB, within the browsers' 4 KB limit for
 * synchronous compiles on a page's thread), as histogramKernel.ts loads the fold's kernel. Where
 * WebAssembly SIMD is missing, `blockSumsWasm` answers null and the caller runs the JavaScript loop.
 */
import { WASM_BASE64 } from '../entropyBlocksKernel.wasm';
import { LOG_TABLE } from './logTable';
import { instantiateSimdKernel, lazyKernel, type KernelKind } from '../wasmKernel';

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  short(h: number, z: number, rows: number, logs: number, m: number, W: number, epsM: number): void;
  full(h: number, z: number, rows: number, logs: number, m: number, W: number, epsM: number): void;
}

export type BlockSumsKernelKind = KernelKind;

const kernels = lazyKernel(() => {
  // Math.log itself for levels past the table: the same bits as logCount's
  const k = instantiateSimdKernel<KernelExports>(WASM_BASE64, { m: { log: Math.log } });
  if (k) new Float64Array(k.memory.buffer, 0, LOG_TABLE.length).set(LOG_TABLE);
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

/** Memory: the log table (bytes 0..32 KiB), then H and Z (n + 1 float64 each), then the rows. */
const PREFIX_AT = LOG_TABLE.length * 8;
let prefixOf: { readonly H: Float64Array; readonly Z: Float64Array } | null = null;

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
  const n1 = tables.H.length;
  const zAt = PREFIX_AT + n1 * 8;
  const rowsAt = zAt + n1 * 8;
  const W = highPos - lowPos;
  const size = (W + 1) * fields;
  const needed = rowsAt + size * 8;
  const memory = k.memory;
  if (memory.buffer.byteLength < needed) {
    memory.grow(Math.ceil((needed - memory.buffer.byteLength) / 65536));
    prefixOf = null;
  }
  // the prefix sums are copied once a histogram (every run width of its search reads the same)
  if (prefixOf !== tables) {
    new Float64Array(memory.buffer, PREFIX_AT, n1).set(tables.H);
    new Float64Array(memory.buffer, zAt, n1).set(tables.Z);
    prefixOf = tables;
  }
  const rows = new Float64Array(memory.buffer, rowsAt, size);
  rows.fill(0, 0, m * fields);
  const run = fields === 7 ? k.short : k.full;
  run(PREFIX_AT + lowPos * 8, zAt + lowPos * 8, rowsAt, 0, m, W, epsM);
  return rows;
}
