/**
 * The tuned file must load and run where users run it: a session at onnxruntime's default graph
 * optimization level ('all', which applies the QDQ transformers the switchboard session turns off),
 * one held-out sample through it, and finite outputs. The search measures configurations on the
 * switchboard; this checks the bytes that are written. Where the chosen file fails, the next
 * smallest that meets the target is tried, so tune never hands out a file onnxruntime refuses.
 */
import type { QuantConfig } from '../../core/config';
import { QuantscopeError } from '../../core/errors';
import { materializeSample, type SampleSpec } from '../../data/samples';
import { toOrtFeeds, type OrtModule, type Tensor } from '../ort';
import type { Trial, TuneResult } from './search';

/** Loads the file at the default optimization level and runs one sample; throws a coded error naming the file. */
export async function checkFileRuns(
  ort: OrtModule,
  bytes: Uint8Array,
  sample: SampleSpec,
  file: string,
): Promise<void> {
  let session;
  try {
    session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', logSeverityLevel: 3 } as never);
  } catch (e) {
    throw new QuantscopeError('RUNTIME', `${file} does not load in onnxruntime: ${(e as Error).message ?? String(e)}`);
  }
  try {
    const all = materializeSample(sample);
    // inputs the preparation fixed (Silero's sr) are no longer inputs of the written file
    const feeds = Object.fromEntries(Object.entries(all).filter(([k]) => session.inputNames.includes(k)));
    let out: Record<string, Tensor>;
    try {
      out = (await session.run(toOrtFeeds(ort, feeds))) as Record<string, Tensor>;
    } catch (e) {
      throw new QuantscopeError(
        'RUNTIME',
        `${file} loads but does not run on sample ${sample.name}: ${(e as Error).message ?? String(e)}`,
      );
    }
    for (const [name, t] of Object.entries(out)) {
      if (t.type !== 'float32') continue;
      const d = t.data as Float32Array;
      for (let i = 0; i < d.length; i++)
        if (!Number.isFinite(d[i]!))
          throw new QuantscopeError('NON_FINITE', `${file}: output ${name} is not finite on sample ${sample.name}`);
    }
  } finally {
    await session.release();
  }
}

export interface CheckedChoice {
  readonly trial: Trial;
  readonly bytes: Uint8Array;
  /** Trials passed over because their file did not load or run, with the reason. */
  readonly refused: readonly { readonly id: number; readonly reason: string }[];
}

/**
 * The chosen trial's file if it loads and runs; else the next smallest trial that meets the target
 * (or, where none meets it, the next best), in that order. `build` writes a configuration's file.
 */
export async function chooseRunnable(
  ort: OrtModule,
  result: TuneResult,
  build: (config: QuantConfig) => Uint8Array,
  sample: SampleSpec,
  file: string,
  signal?: AbortSignal,
): Promise<CheckedChoice> {
  const chosen = result.trials[result.chosen]!;
  const rest = result.trials
    // measured on as many samples as the choice (not stopped early, whose value is only a bound)
    .filter((t) => t.id !== chosen.id && t.meets === chosen.meets && t.metrics.samples === chosen.metrics.samples)
    .sort((a, b) => (chosen.meets ? a.bytes - b.bytes : b.value - a.value));
  const refused: { id: number; reason: string }[] = [];
  for (const t of [chosen, ...rest]) {
    if (signal?.aborted) throw new QuantscopeError('CANCELLED', 'tuning was cancelled');
    const bytes = build(t.config);
    try {
      await checkFileRuns(ort, bytes, sample, file);
      return { trial: t, bytes, refused };
    } catch (e) {
      if (!(e instanceof QuantscopeError) || e.code === 'CANCELLED') throw e;
      refused.push({ id: t.id, reason: e.message });
      if (refused.length >= 4) break;
    }
  }
  throw new QuantscopeError(
    'RUNTIME',
    `none of the ${refused.length} best configurations tuned gives a file that runs in onnxruntime: ${refused[0]?.reason ?? ''}`,
  );
}
