/** Static QDQ's calibrated ranges for an export, computed without holding the page (state/exportSlice.ts). */
import { calibratedRange } from '../core/calibratedRanges';
import type { QuantConfig } from '../core/config';
import type { TensorRange } from '../onnx';
import type { StatsMap } from '../runtime/calibrate';

/**
 * The calibrated ranges (core/calibratedRanges: the command line's too), computed in slices that
 * yield to the page between them: a histogram search (entropy, MSE) for each of a large model's
 * tensors would otherwise hold the page for as long as all of them take.
 */
export async function rangesFromStatsYielding(
  stats: StatsMap,
  config: QuantConfig,
  producerOf: (t: string) => string | undefined,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, TensorRange | null>> {
  const out = new Map<string, TensorRange | null>();
  const names = Object.keys(stats);
  let slice = performance.now();
  for (let i = 0; i < names.length; i++) {
    out.set(names[i]!, calibratedRange(stats[names[i]!]!, names[i]!, config, producerOf(names[i]!)));
    if (performance.now() - slice > 30) {
      onProgress?.(i + 1, names.length);
      await new Promise((r) => setTimeout(r, 0));
      slice = performance.now();
    }
  }
  return out;
}
