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
import type { EvalMetrics, Evaluator } from './evaluate';
import type { Trial, TuneResult } from './trial';
import { meets, targetLabel, targetValue, type Target } from './target';
import { feedShapes, onnxruntimeWords } from '../sampleRun';

/**
 * What the written file is judged by: the search's evaluator (its cached float outputs and held-out
 * samples) and the target. The search measures on the switchboard, which runs every op in float on
 * dequantized values; the written file runs onnxruntime's fused integer kernels (QLinearConv, ...), so
 * a configuration at the edge of the target can miss it there (PP-OCRv4 rec: 350 of 353 rows agree
 * on the switchboard, 349 in the file, against 0.99's 349.5).
 */
export interface FileJudge {
  readonly evaluator: Evaluator;
  readonly target: Target;
}

/** What one file gave in onnxruntime: its metrics (with a judge) and its latency (when asked). */
export interface FileMeasure {
  readonly metrics?: EvalMetrics;
  /** Median wall time of one run on the checked sample, in ms (onnxruntime at 'all', this backend). */
  readonly latencyMs?: number;
}

/** Timed runs of the checked sample a latency is the median of (after the untimed first run). */
export const LATENCY_RUNS = 3;

/**
 * Nudged runs of each held-out sample when the target is top-1 agreement: a row of the written file
 * counts only where it agrees with the float model in the plain run and in each of these
 * (runtime/tune/nudge.ts: what another build of onnxruntime may read differently).
 */
export const FILE_NUDGES = 2;

/** The median of a few runs' wall time: one slow run (a GC, another process) does not move it. */
async function medianRunMs(run: () => Promise<unknown>, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  return times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
}

/**
 * Loads the file at the default optimization level and runs one sample; throws a coded error naming
 * the file. With a judge, also measures the file on every held-out sample and returns its metrics.
 */
export async function checkFileRuns(
  ort: OrtModule,
  bytes: Uint8Array,
  sample: SampleSpec,
  file: string,
  judge?: FileJudge,
  signal?: AbortSignal,
): Promise<EvalMetrics | undefined> {
  return (await measureFile(ort, bytes, sample, file, { judge, signal })).metrics;
}

/**
 * checkFileRuns, and with `latencyRuns` the median time of that many further runs of the sample in
 * the same session (the first, untimed run warms it: kernels chosen, buffers allocated).
 */
export async function measureFile(
  ort: OrtModule,
  bytes: Uint8Array,
  sample: SampleSpec,
  file: string,
  opts: {
    readonly judge?: FileJudge;
    readonly signal?: AbortSignal;
    readonly latencyRuns?: number;
    /** Measure every held-out sample even where the file cannot meet a top-1 target (no early stop). */
    readonly full?: boolean;
  } = {},
): Promise<FileMeasure> {
  const { judge, signal } = opts;
  let session;
  try {
    // threads that wait without spinning where no latency is timed (as the switchboard's, evaluate.ts:
    // the same outputs, fewer cores taken between runs); a timed file runs as users run it, spinning
    const quiet = opts.latencyRuns ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } };
    session = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      ...quiet,
    } as never);
  } catch (e) {
    throw new QuantscopeError('RUNTIME', `${file} does not load in onnxruntime: ${(e as Error).message ?? String(e)}`);
  }
  try {
    const all = materializeSample(sample);
    // inputs the preparation fixed (Silero's sr) are no longer inputs of the written file
    const given = Object.fromEntries(Object.entries(all).filter(([k]) => session.inputNames.includes(k)));
    const feeds = toOrtFeeds(ort, given);
    let out: Record<string, Tensor>;
    try {
      out = (await session.run(feeds)) as Record<string, Tensor>;
    } catch (e) {
      throw new QuantscopeError(
        'RUNTIME',
        `${file} loads but does not run on sample ${sample.name} (inputs ${feedShapes(given)}): ${onnxruntimeWords((e as Error).message ?? String(e))}`,
      );
    }
    for (const [name, t] of Object.entries(out)) {
      if (t.type !== 'float32') continue;
      const d = t.data as Float32Array;
      for (let i = 0; i < d.length; i++)
        if (!Number.isFinite(d[i]!))
          throw new QuantscopeError('NON_FINITE', `${file}: output ${name} is not finite on sample ${sample.name}`);
    }
    const time = async () =>
      opts.latencyRuns ? { latencyMs: await medianRunMs(() => session.run(feeds), opts.latencyRuns) } : {};
    if (!judge) return await time(); // awaited here: the finally below releases the session
    const output = judge.evaluator.output;
    const metrics = await judge.evaluator.compare(
      async (inputs) => {
        const feeds = Object.fromEntries(Object.entries(inputs).filter(([k]) => session.inputNames.includes(k)));
        const r = (await session.run(toOrtFeeds(ort, feeds), [output])) as Record<string, Tensor>;
        return r[output]!;
      },
      signal,
      // top-1 agreement of the file: only rows that hold under nudged inputs count (tune/nudge.ts)
      judge.target.metric === 'top1' ? { nudges: FILE_NUDGES, ...(opts.full ? {} : { need: judge.target.value }) } : {},
    );
    // a file whose check stopped early (it cannot meet the target) is not timed: it is passed over
    return { metrics, ...(metrics.atMost === undefined ? await time() : {}) };
  } finally {
    await session.release();
  }
}

/** A trial whose file was written and run in onnxruntime. */
export interface FileCheck extends FileMeasure {
  readonly id: number;
  /** The file's own size in bytes (the trial's bytes are the search's estimate). */
  readonly bytes: number;
}

export interface CheckedChoice {
  readonly trial: Trial;
  readonly bytes: Uint8Array;
  /** Trials passed over because their file did not load or run, with the reason. */
  readonly refused: readonly { readonly id: number; readonly reason: string }[];
  /** The written file's own metrics in onnxruntime (with a judge). */
  readonly fileMetrics?: EvalMetrics;
  /** Every file that loaded and ran, the written one included, with what it gave. */
  readonly checks: readonly FileCheck[];
}

/**
 * Candidates whose file runs but misses the target in onnxruntime, passed over before giving up: with
 * top-1's nudged check the trials at the target's edge miss (PP-OCRv4 rec: those the search measured at
 * 437 to 438 rows of 441, where 437 meets 0.99), and a miss stops after a sample or two, untimed.
 */
const MAX_MISSED_IN_FILE = 16;

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
  judge?: FileJudge,
  latencyRuns?: number,
): Promise<CheckedChoice> {
  const chosen = result.trials[result.chosen]!;
  const rest = result.trials
    // measured on as many samples as the choice (not stopped early, whose value is only a bound)
    .filter((t) => t.id !== chosen.id && t.meets === chosen.meets && t.metrics.samples === chosen.metrics.samples)
    .sort((a, b) => (chosen.meets ? a.bytes - b.bytes : b.value - a.value));
  const refused: { id: number; reason: string }[] = [];
  let failed = 0;
  let missed = 0;
  const checks: FileCheck[] = [];
  let firstRunning: { trial: Trial; bytes: Uint8Array; fileMetrics?: EvalMetrics } | null = null;
  for (const t of [chosen, ...rest]) {
    if (signal?.aborted) throw new QuantscopeError('CANCELLED', 'tuning was cancelled');
    const bytes = build(t.config);
    let fileMetrics: EvalMetrics | undefined;
    try {
      const m = await measureFile(ort, bytes, sample, file, { judge, signal, latencyRuns });
      fileMetrics = m.metrics;
      checks.push({ id: t.id, bytes: bytes.length, ...m });
    } catch (e) {
      if (!(e instanceof QuantscopeError) || e.code === 'CANCELLED') throw e;
      refused.push({ id: t.id, reason: e.message });
      if (++failed >= 4) break;
      continue;
    }
    // a trial that met the target on the switchboard must meet it in the file too
    if (judge && fileMetrics && t.meets && !meets(judge.target, fileMetrics, judge.evaluator.floatTask)) {
      firstRunning ??= { trial: t, bytes, fileMetrics };
      const v = targetValue(judge.target, fileMetrics, judge.evaluator.floatTask);
      refused.push({
        id: t.id,
        reason: `${file} misses ${targetLabel(judge.target)} in onnxruntime (${fileMetrics.atMost !== undefined ? 'at most ' : ''}${+v.toFixed(4)}${fileMetrics.stableTop1 !== undefined ? ' counting only the rows that hold with the input nudged' : ''}; ${+t.value.toFixed(4)} on the switchboard)`,
      });
      if (++missed >= MAX_MISSED_IN_FILE) break;
      continue;
    }
    return { trial: t, bytes, refused, checks, ...(fileMetrics ? { fileMetrics } : {}) };
  }
  // every candidate that runs misses in the file: the first of them (the caller says it misses), its
  // numbers measured on every held-out sample where its check stopped early
  if (firstRunning) {
    const m = firstRunning.fileMetrics;
    if (judge && m && m.samples < judge.evaluator.sampleCount) {
      const again = await measureFile(ort, firstRunning.bytes, sample, file, { judge, signal, full: true });
      return { ...firstRunning, ...(again.metrics ? { fileMetrics: again.metrics } : {}), refused, checks };
    }
    return { ...firstRunning, refused, checks };
  }
  throw new QuantscopeError(
    'RUNTIME',
    `none of the ${refused.length} best configurations tuned gives a file that runs in onnxruntime: ${refused[0]?.reason ?? ''}`,
  );
}
