/**
 * A run on one sample, said in a user's words when it fails. onnxruntime's own message names the node
 * that failed, not the sample: a failure is said with the sample (its name where it has one), the
 * shapes it was given and which model failed on it, so that a user can tell which file, or which
 * generated shape, to change. Every job that runs samples (calibration, the export check, evaluation,
 * debugging, the rounding algorithms) says it the same way.
 */
import { isQuantscopeError, QuantscopeError } from '../core/errors';
import type { Feeds } from './ort';

/** Which sample a run is on: its index among `count`, and its name (a file) where it has one. */
export interface SampleAt {
  readonly index: number;
  readonly count: number;
  readonly name?: string;
}

/** Sample `index` of a source of named samples (a CalibrationSource, or a list of SampleSpecs). */
export function sampleAt(source: { readonly count: number; name?(i: number): string }, index: number): SampleAt {
  const name = source.name?.(index);
  return name ? { index, count: source.count, name } : { index, count: source.count };
}

/** Sample `index` of a list of named samples (SampleSpecs, whose name is their file's). */
export function listSampleAt(samples: readonly { readonly name: string }[], index: number): SampleAt {
  return { index, count: samples.length, name: samples[index]!.name };
}

/**
 * onnxruntime's message without what only its developers read: onnxruntime-web's wrapper ("failed to
 * call OrtRun(). ERROR_CODE: 1, ERROR_MESSAGE: ") and a failed check's build path and C++ signature
 * ("…/element_wise_ops.h:583 void onnxruntime::BroadcastIterator::Append(…) axis == 1 || … was false.").
 */
export function onnxruntimeWords(message: string): string {
  return message
    .replace(/\s+/g, ' ')
    .replace(/^failed to call OrtRun\(\)\. ERROR_CODE: \d+, ERROR_MESSAGE: /, '')
    .replace(/\S+\.(?:h|cc|cpp):\d+ .*? was false\. /, '')
    .trim();
}

/** "x float32 [1, 3, 224, 224], mask int64 [1, 8]": what a sample gave each input. */
export function feedShapes(feeds: Feeds): string {
  return Object.entries(feeds)
    .map(([input, t]) => `${input} ${t.type ?? 'float32'} [${t.dims.join(', ')}]`)
    .join(', ');
}

/**
 * `run` (one onnxruntime run on the sample `at` was given as `feeds`), with a failure rethrown as a
 * RUNTIME error that says the sample, its shapes and which model (`model`: "the model", "the export")
 * failed on it. A QuantscopeError passes as it is.
 */
export async function runOnSample<T>(
  run: () => Promise<T>,
  feeds: Feeds,
  at: SampleAt,
  model = 'the model',
): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (isQuantscopeError(e)) throw e;
    const why = onnxruntimeWords(e instanceof Error ? e.message : String(e));
    throw new QuantscopeError(
      'RUNTIME',
      `sample ${at.index + 1} of ${at.count}${at.name ? ` (${at.name})` : ''}, inputs ${feedShapes(feeds)}: ${model} failed on it: ${why}`,
    );
  }
}
