/**
 * Running the calibration samples through a model for the float-model algorithms (modelAlgorithms.ts,
 * biasCorrectionFromData.ts): each sample's fetched tensors handed to a visitor, with progress and cancel.
 */
import { QuantscopeError } from '../core/errors';
import { encodeModel, withExtraOutputs, type ModelProto } from '../onnx';
import type { CalibrationSource } from './calibrate';
import { toOrtFeeds, type OrtModule, type Tensor } from './ort';
import { floatOutputArrays, openOutputArrayPool } from './outputArrayPool';
import { runOnSample, sampleAt } from './sampleRun';

export interface AlgorithmProgress {
  readonly phase: 'smoothquant' | 'bias-correction';
  readonly done: number;
  readonly total: number;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: AlgorithmProgress) => void;
  /** false: every output a new array (by default each visited sample's arrays serve the next run's outputs). */
  readonly recycleOutputs?: boolean;
}

/** Runs every sample through `model` with `tensors` fetched, handing each sample's tensors to `visit`. */
export async function eachSample(
  ort: OrtModule,
  model: ModelProto,
  tensors: readonly string[],
  source: CalibrationSource,
  opts: RunOptions & { phase: AlgorithmProgress['phase'] },
  visit: (get: (name: string) => Tensor) => void,
): Promise<void> {
  if (source.count === 0)
    throw new QuantscopeError(
      'NO_STATISTICS',
      `${opts.phase === 'smoothquant' ? 'SmoothQuant' : 'bias correction'} needs calibration data: give samples to run`,
    );
  const inputs = new Set(model.graph!.input.map((v) => v.name));
  const fetched = tensors.filter((t) => !inputs.has(t));
  const session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(model, fetched)), {
    logSeverityLevel: 3,
  } as never);
  // each visited sample's arrays are lent to the next run's outputs where the runtime asks (the page's
  // onnxruntime-web: outputArrayPool.ts); the visitors fold what they read and keep no array
  const pool = opts.recycleOutputs === false ? null : openOutputArrayPool();
  try {
    for (let i = 0; i < source.count; i++) {
      if (opts.signal?.aborted) throw new QuantscopeError('CANCELLED', `${opts.phase} was cancelled`);
      const given = await source.feeds(i);
      const feeds = toOrtFeeds(ort, given);
      const out = fetched.length
        ? await runOnSample(() => session.run(feeds, [...fetched]), given, sampleAt(source, i))
        : {};
      visit((name) => (inputs.has(name) ? feeds[name]! : (out[name] as Tensor)));
      pool?.give(floatOutputArrays(out));
      opts.onProgress?.({ phase: opts.phase, done: i + 1, total: source.count });
    }
  } finally {
    pool?.close();
    await (session as { release?: () => Promise<void> }).release?.();
  }
}
