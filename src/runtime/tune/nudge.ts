/**
 * Nudged inputs for the written file's top-1 check (runtime/tune/verify.ts). A quantized model rounds
 * hundreds of intermediate values to integers; where one sits at a rounding boundary, the last bit of
 * float arithmetic decides which way it goes, and the step propagates. Other builds of onnxruntime
 * (native CPU kernels against the page's WASM ones, fused integer kernels against DequantizeLinear →
 * float op → QuantizeLinear) differ in that last bit, so they read some rows of a class output
 * differently: on PP-OCRv4 rec's 8 held-out lines (441 rows) one int8 file read 437 rows like the float
 * model in onnxruntime-node at the default optimization level, 432 at 'disabled' and 433 in
 * onnxruntime-web's WASM, and the page's tuned file read 437 in WASM and 434 in onnxruntime-node.
 * A row that flips when the input moves by far less than one 8-bit pixel level is such a row; counting
 * only the rows that agree in every nudged run as well covers what another engine may read.
 */
import type { Feeds, FeedTensor } from '../ort';

/** Each float input value moves by up to this fraction of the input's largest magnitude. */
export const NUDGE_FRACTION = 1e-3;

/**
 * The feeds with every float32 input moved by deterministic noise (seeded: the same nudge every time)
 * of at most NUDGE_FRACTION of that input's largest magnitude; other inputs as they are.
 */
export function nudgedFeeds(feeds: Feeds, seed: number): Feeds {
  const out: Record<string, FeedTensor> = {};
  let s = (seed * 2654435761) >>> 0 || 1;
  for (const [name, t] of Object.entries(feeds)) {
    if ((t.type ?? 'float32') !== 'float32') {
      out[name] = t;
      continue;
    }
    const x = t.data as Float32Array;
    let peak = 0;
    for (let i = 0; i < x.length; i++) peak = Math.max(peak, Math.abs(x[i]!));
    const eps = NUDGE_FRACTION * peak;
    const y = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      // xorshift32: uniform in [-1, 1)
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      y[i] = x[i]! + eps * (s / 2147483648 - 1);
    }
    out[name] = { ...t, data: y };
  }
  return out;
}
