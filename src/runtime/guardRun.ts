/**
 * The guard rail's run: the float model and the export on the same samples, in streaming order for a
 * recurrent model (each model fed its own previous state), one output folded into running sums, then
 * judged against the target (core/guard). The page's worker and the command line call this one function.
 */
import { QuantscopeError, toErrorInfo } from '../core/errors';
import {
  createTally,
  DEFAULT_GUARD_TARGET,
  foldTally,
  judgeTally,
  type Chain,
  type GuardTarget,
  type GuardVerdict,
} from '../core/guard';
import type { CalibrationSession, CalibrationSource } from './calibrate';
import { sampleSource } from '../data/samples';
import { toOrtFeeds, type FeedTensor, type OrtModule, type Tensor } from './ort';
import type { ExternalDataFile, GuardRequest, WorkerReply } from './protocol';
import type { SerialQueue } from './serialQueue';
import { modelBytes } from './speedJob';
import { carryOver, chainedFeeds } from './recurrent';
import { runOnSample, sampleAt } from './sampleRun';

export interface GuardOptions {
  /** Recurrent pairs: fed back in streaming order, and never the output judged. */
  readonly chain?: readonly Chain[];
  readonly target?: GuardTarget;
  /** Where the samples came from, in words (held-out, or a split of the calibration data). */
  readonly source: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

/** The output the guard judges: the first float32 output that is not recurrent state. */
export function guardedOutput(outputNames: readonly string[], chain: readonly Chain[]): string | null {
  return outputNames.find((o) => !chain.some((c) => c.output === o)) ?? null;
}

export async function guardExport(
  ort: OrtModule,
  float: CalibrationSession,
  exported: CalibrationSession,
  source: CalibrationSource,
  opts: GuardOptions,
): Promise<GuardVerdict> {
  const chain = opts.chain ?? [];
  const output = guardedOutput(float.outputNames, chain);
  if (!output) throw new QuantscopeError('RUNTIME', 'the model has no output to check the export on');
  if (!exported.outputNames.includes(output))
    throw new QuantscopeError('RUNTIME', `the export has no output "${output}" to compare with the float model's`);
  if (source.count === 0) throw new QuantscopeError('BAD_DATA', 'no samples to check the export on');
  const fetches = [output, ...chain.map((c) => c.output).filter((o) => o !== output)];
  const tally = createTally(output);
  let carriedFloat: Record<string, FeedTensor> | null = null;
  let carriedExport: Record<string, FeedTensor> | null = null;
  for (let i = 0; i < source.count; i++) {
    if (opts.signal?.aborted) throw new QuantscopeError('CANCELLED', 'the check was cancelled');
    const feeds = await source.feeds(i);
    const at = sampleAt(source, i);
    const floatFeeds = chainedFeeds(feeds, carriedFloat);
    const exportFeeds = chainedFeeds(feeds, carriedExport);
    const a = await runOnSample(
      () => float.run(toOrtFeeds(ort, floatFeeds), fetches),
      floatFeeds,
      at,
      'the float model',
    );
    const b = await runOnSample(
      () => exported.run(toOrtFeeds(ort, exportFeeds), fetches),
      exportFeeds,
      at,
      'the export',
    );
    if (chain.length) {
      carriedFloat = carryOver(a, chain);
      carriedExport = carryOver(b, chain);
    }
    const x = a[output] as Tensor;
    const y = b[output] as Tensor;
    if (x.type !== 'float32' || y.type !== 'float32')
      throw new QuantscopeError(
        'RUNTIME',
        `output "${output}" is ${x.type}, not float32: the guard compares float outputs`,
      );
    foldTally(tally, x.data as Float32Array, y.data as Float32Array, x.dims);
    opts.onProgress?.(i + 1, source.count);
  }
  return judgeTally(tally, opts.target ?? DEFAULT_GUARD_TARGET, opts.source);
}

/** The guard as a worker job: both sessions on the page's backend, every call through the serial queue. */
export async function runGuardJob(
  ort: OrtModule,
  req: GuardRequest,
  queue: SerialQueue,
  emit: (m: WorkerReply) => void,
): Promise<void> {
  try {
    // a model with external data gets its files by the locations it records (onnxruntime-web's externalData)
    const open = async (b: ArrayBuffer | Blob, externalData?: readonly ExternalDataFile[]) => {
      const bytes = await modelBytes(b);
      const options = {
        executionProviders: [req.backend],
        ...(externalData?.length ? { externalData: [...externalData] } : {}),
      };
      return queue.run(() => ort.InferenceSession.create(bytes, options));
    };
    const f = await open(req.float, req.floatExternalData);
    const q = await open(req.exported, req.exportedExternalData);
    const queued = (s: typeof f): CalibrationSession => ({
      outputNames: s.outputNames,
      run: (feeds, fetches) => queue.run(() => s.run(feeds, fetches)),
    });
    try {
      const verdict = await guardExport(ort, queued(f), queued(q), sampleSource(req.samples), {
        chain: req.chain,
        source: req.source,
        target: req.target,
      });
      emit({ type: 'guarded', id: req.id, verdict });
    } finally {
      await queue.run(async () => {
        await f.release();
        await q.release();
      });
    }
  } catch (e) {
    emit({ type: 'error', id: req.id, error: toErrorInfo(e) });
  }
}
