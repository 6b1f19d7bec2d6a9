/**
 * Calibration of a model too large for one calibration session: the model with every calibrated
 * tensor as an output keeps all those activations alive until a run returns (onnxruntime cannot reuse
 * an output's buffer), on top of the weights. When that does not fit, the tensors are split into
 * passes, each a session over the same samples that outputs only its subset; every tensor's
 * statistics depend on its own values only, so the passes give the one-pass statistics, at the cost
 * of running the samples once a pass. Exactly so with graph optimizations off: with them on,
 * onnxruntime fuses differently when other tensors are outputs (a fused MatMul+Add, LayerNorm), and
 * a tensor's values can move in the last float32 bit (measured on the ViT: 1.4e-7 relative on a min).
 *
 * `planCalibrationPasses` is the estimate (pure): the bytes a pass needs against what the runtime
 * gives (WebAssembly's 4 GiB, the device's memory, or a Node budget), the passes, or a refusal in words.
 */
import { byteSize } from '../core/byteSize';
import { QuantscopeError } from '../core/errors';
import {
  calibrate,
  type CalibrationOptions,
  type CalibrationSession,
  type CalibrationSource,
  type StatsMap,
} from './calibrate';
import type { OrtModule } from './ort';

export interface CalibrationMemoryInput {
  /** The model's weights in bytes. */
  readonly weightBytes: number;
  /** Copies of the weights a session keeps: 2 when built from bytes (the buffer and the runtime's copy). */
  readonly weightCopies?: number;
  /** Each calibrated tensor's bytes for one sample, in graph order. */
  readonly activationBytes: ReadonlyMap<string, number>;
  /** What the runtime can hold (e.g. 4 GiB of wasm32 memory, less the page's own use). */
  readonly budgetBytes: number;
  /** Force this many passes (at least; more if one still would not fit). */
  readonly passes?: number;
  /** What the refusal advises (the page: a weight-only form or the command line). */
  readonly advice?: string;
}

export interface CalibrationMemoryPlan {
  readonly passes: readonly (readonly string[])[];
  /** The largest pass's estimate: weights, its outputs, and a working set of twice its largest tensor. */
  readonly peakBytes: number;
  /** The one-pass estimate. */
  readonly onePassBytes: number;
  /** Said to the user: how many passes and why (empty for one pass). */
  readonly note: string;
}

function passBytes(fixed: number, sizes: readonly number[]): number {
  const sum = sizes.reduce((a, b) => a + b, 0);
  return fixed + sum + 2 * Math.max(0, ...sizes);
}

/**
 * Split the calibrated tensors into passes that each fit the budget (in graph order, so an early pass
 * runs only the start of the graph); refuse, naming the numbers, when even one tensor a pass cannot.
 */
export function planCalibrationPasses(i: CalibrationMemoryInput): CalibrationMemoryPlan {
  const fixed = i.weightBytes * (i.weightCopies ?? 2);
  const names = [...i.activationBytes.keys()];
  const sizes = names.map((n) => i.activationBytes.get(n)!);
  const onePassBytes = passBytes(fixed, sizes);
  const largest = Math.max(0, ...sizes);
  if (fixed + 3 * largest > i.budgetBytes)
    throw new QuantscopeError(
      'MODEL_TOO_LARGE',
      `calibration needs at least ${byteSize(fixed + 3 * largest)} (${byteSize(fixed)} for the weights, ${byteSize(largest)} for the largest activation and its working copies); this runtime gives ${byteSize(i.budgetBytes)}. ${i.advice ?? 'Export a weight-only form (no calibration), or calibrate on the command line'}`,
    );
  const forced = Math.max(1, Math.min(names.length, i.passes ?? 1));
  // the most outputs a pass can hold: greedy in graph order, capped so that `forced` passes share them
  const cap = Math.ceil(names.length / forced);
  const passes: string[][] = [];
  let cur: string[] = [];
  let curSizes: number[] = [];
  names.forEach((n, k) => {
    const next = [...curSizes, sizes[k]!];
    if (cur.length && (cur.length >= cap || passBytes(fixed, next) > i.budgetBytes)) {
      passes.push(cur);
      cur = [];
      curSizes = [];
    }
    cur.push(n);
    curSizes.push(sizes[k]!);
  });
  if (cur.length) passes.push(cur);
  const peakBytes = Math.max(
    ...passes.map((p) =>
      passBytes(
        fixed,
        p.map((n) => i.activationBytes.get(n)!),
      ),
    ),
  );
  const note =
    passes.length === 1
      ? ''
      : `calibrating in ${passes.length} passes over subsets of the ${names.length} tensors (${onePassBytes > i.budgetBytes ? `one pass would need ${byteSize(onePassBytes)}, more than the ${byteSize(i.budgetBytes)} available` : 'as asked'}): the samples run ${passes.length} times`;
  return { passes, peakBytes, onePassBytes, note };
}

/** A session over a subset of the tensors, released when its pass is done. */
export type PassSession = CalibrationSession & { release(): Promise<void> };

/**
 * Calibrate `passes` one after the other, each on its own session (`open` builds the model with that
 * subset as outputs), and merge: the statistics one `calibrate` call over every tensor gives.
 */
export async function calibrateInPasses(
  ort: OrtModule,
  open: (tensors: readonly string[]) => Promise<PassSession>,
  source: CalibrationSource,
  passes: readonly (readonly string[])[],
  opts: CalibrationOptions = {},
): Promise<StatsMap> {
  const stats: StatsMap = {};
  const stepsPerPass = (opts.mode === 'onnxruntime-exact' ? 2 : 1) * source.count;
  for (const [k, tensors] of passes.entries()) {
    const session = await open(tensors);
    try {
      const s = await calibrate(ort, session, source, tensors, {
        ...opts,
        onProgress: (done) => opts.onProgress?.(k * stepsPerPass + done, passes.length * stepsPerPass),
      });
      Object.assign(stats, s);
    } finally {
      await session.release();
    }
  }
  return stats;
}
