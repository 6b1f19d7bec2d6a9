/**
 * Tune as a worker job: the page's prepared model, its calibration statistics, its held-out samples
 * and its configuration go through the same engine the command line runs (runtime/tune: prepareTuning,
 * tune), never a copy. Progress says the phase, the trials so far and the last trial's metric; a cancel
 * stops it between two runs. Every onnxruntime call of the job runs inside the worker's serial queue,
 * as one task: nothing else runs a session meanwhile (the page keeps Export and Calibrate off).
 */
import type { QuantConfig } from '../core/config';
import { toErrorInfo } from '../core/errors';
import {
  encodeModelForRuntime,
  exportForm,
  graphTensors,
  isExternal,
  planQuantization,
  storedByteLength,
} from '../onnx';
import type { SampleSpec } from '../data/samples';
import type { StatsMap } from './calibrate';
import type { OrtModule } from './ort';
import { decodeJobModel, ortWithExternalData } from './modelSession';
import type { Backend, ExternalDataFile, WorkerReply } from './protocol';
import type { SerialQueue } from './serialQueue';
import type { EvalMetrics, Evaluator } from './tune/evaluate';
import { prepareTuning, rangesFor } from './tune/prepare';
import { tune } from './tune/search';
import type { TuneResult } from './tune/trial';
import { defaultTarget, meets, targetValue, type Target } from './tune/target';
import { chooseRunnable, LATENCY_RUNS, measureFile } from './tune/verify';
import { taskMetricOf, type TaskSpec } from './sensitivityJob';
import { PROGRESS_INTERVAL_MS } from './protocol';

export interface TuneRequest {
  readonly type: 'tune';
  readonly id: number;
  /** The prepared model (what calibration ran on). */
  readonly model: ArrayBuffer;
  /** Bytes of the float model file as loaded: sizes are fractions of it. */
  readonly floatBytes: number;
  readonly config: QuantConfig;
  /** Calibration statistics (static QDQ); null for weight-only. */
  readonly stats: StatsMap | null;
  readonly heldOut: readonly SampleSpec[];
  /** Null: the default target for the output (top-1 agreement >= 0.99 on a class axis, else SQNR >= 30 dB). */
  readonly target: Target | null;
  /** Null: the first output that is not recurrent state. */
  readonly output: string | null;
  readonly backend: Backend;
  /** The task metric where the page knows the task (a task-drop target reads it). */
  readonly task?: TaskSpec | null;
  /**
   * The model's external data files (by the locations it records), when it keeps its weights outside
   * the .onnx: read as lazy slices, and given to every session the job opens (runtime/modelSession.ts).
   */
  readonly externalData?: readonly ExternalDataFile[];
}

/** What the page shows of a run: the engine's result, and what it was measured on. */
export interface TuneSummary {
  readonly result: TuneResult;
  /**
   * The trial the page takes: the engine's choice where its file loads and runs in onnxruntime at the
   * default optimization level, else the next smallest that meets the target (runtime/tune/verify.ts,
   * as the command line writes it).
   */
  readonly chosen: number;
  /** Trials passed over because their file did not load or run, with the reason. */
  readonly refused: readonly { readonly id: number; readonly reason: string }[];
  readonly output: string;
  /** The output's class-axis size, when it has one. */
  readonly classes: number | null;
  readonly heldOut: number;
  /**
   * The written file itself (the chosen trial's bytes, as Export writes them), run in onnxruntime at the
   * default optimization level on every held-out sample: its own metrics, the target's value and
   * whether it meets the target there, and its size. The trial's value is the switchboard's (every op in
   * float on dequantized values); the file runs onnxruntime's integer kernels, so the two can differ.
   */
  readonly file: TunedFile | null;
  /**
   * Latency in onnxruntime on this backend and machine (WASM in the page): the median of LATENCY_RUNS
   * runs of the first held-out sample, after an untimed one, in the tune worker. Only files Tune built
   * and ran have one: the chosen trial's, those verify.ts passed over for missing the target in the
   * file after measuring it on every held-out sample (not those whose check stopped early), and the
   * start's; the float model's is the reference.
   */
  readonly latency: TuneLatency;
}

export interface TuneLatency {
  readonly backend: Backend;
  readonly runs: number;
  readonly floatMs: number | null;
  /** Trial id -> median ms. */
  readonly byTrial: Readonly<Record<number, number>>;
}

export interface TunedFile {
  readonly metrics: EvalMetrics;
  readonly value: number;
  readonly meets: boolean;
  readonly bytes: number;
}

export interface TuneProgress {
  readonly phase: string;
  readonly trials: number;
  /** The target's metric of the last configuration tried. */
  readonly metric: number | null;
  /** The target it is measured against (the default one resolved), once known. */
  readonly target: Target | null;
}

/** An evaluator that reports each configuration's metrics as it is measured (the progress's current metric). */
function watched(inner: Evaluator, onMetrics: (m: EvalMetrics) => void): Evaluator {
  return {
    output: inner.output,
    dims: inner.dims,
    classes: inner.classes,
    floatTask: inner.floatTask,
    taskName: inner.taskName,
    get runs() {
      return inner.runs;
    },
    sampleCount: inner.sampleCount,
    hardestFirst: () => inner.hardestFirst(),
    compare: (run, signal, opts) => inner.compare(run, signal, opts),
    async evaluate(setting, signal, opts) {
      const m = await inner.evaluate(setting, signal, opts);
      onMetrics(m);
      return m;
    },
    release: () => inner.release(),
  };
}

export async function runTuneJob(
  ort: OrtModule,
  req: TuneRequest,
  queue: SerialQueue,
  signal: AbortSignal,
  emit: (m: WorkerReply) => void,
): Promise<void> {
  const post = (m: WorkerReply): void => {
    // after a cancel is acknowledged nothing more is said about that request
    if (!signal.aborted) emit(m);
  };
  try {
    const summary = await queue.run(async () => {
      post({
        type: 'progress',
        id: req.id,
        done: 0,
        total: 1,
        tune: { phase: 'preparing', trials: 0, metric: null, target: null },
      });
      const prepared = decodeJobModel(new Uint8Array(req.model), 'model', req.externalData);
      // with external data, every session (the switchboard's, the file check's) gets the data files
      const runtime = ortWithExternalData(ort, req.externalData);
      const ctx = await prepareTuning(runtime, prepared, req.config, req.stats, req.heldOut, {
        floatBytes: req.floatBytes,
        output: req.output ?? undefined,
        task: req.task ? taskMetricOf(req.task) : undefined,
        signal,
      });
      try {
        const target = req.target ?? defaultTarget(ctx.evaluator);
        let metric: number | null = null;
        let last = 0;
        const evaluator = watched(ctx.evaluator, (m) => {
          metric = targetValue(target, m, ctx.evaluator.floatTask);
        });
        const result = await tune({ ...ctx, evaluator }, target, {
          signal,
          onProgress: (p) => {
            const now = performance.now();
            if (p.done > 1 && now - last < PROGRESS_INTERVAL_MS) return;
            last = now;
            post({
              type: 'progress',
              id: req.id,
              done: p.done,
              total: Math.max(p.total, p.done),
              tune: { phase: p.phase, trials: p.done, metric, target },
            });
          },
        });
        post({
          type: 'progress',
          id: req.id,
          done: result.trials.length,
          total: result.trials.length,
          tune: { phase: 'checking the file runs', trials: result.trials.length, metric, target },
        });
        // a file's weights left float in the model's data files: counted in its size, never copied
        const externalBytes = new WeakMap<Uint8Array, number>();
        const build = (c: QuantConfig): Uint8Array => {
          const qdq = (c.form ?? { kind: 'qdq' }).kind === 'qdq';
          const ranges = qdq && req.stats ? rangesFor(req.stats, prepared, c) : null;
          const model = exportForm(
            prepared,
            c,
            ranges ? { plan: planQuantization(prepared, c), ranges } : undefined,
          ).model;
          // encodeModelForRuntime: tensors in the data files keep only the spec's keys (onnx/codec.ts)
          const out = encodeModelForRuntime(model);
          let outside = 0;
          for (const t of graphTensors(model.graph!)) if (isExternal(t)) outside += storedByteLength(t);
          externalBytes.set(out, outside);
          return out;
        };
        const sample = req.heldOut[0]!;
        const checked = await chooseRunnable(
          runtime,
          result,
          build,
          sample,
          'the tuned file',
          signal,
          { evaluator: ctx.evaluator, target },
          LATENCY_RUNS,
        );
        const byTrial: Record<number, number> = {};
        for (const c of checked.checks) if (c.latencyMs !== undefined) byTrial[c.id] = c.latencyMs;
        // the start (the user's own settings) and the float model, for reference: a few runs each
        const start = result.trials[0]!;
        if (byTrial[start.id] === undefined) {
          const m = await measureFile(runtime, build(start.config), sample, 'the starting configuration', {
            signal,
            latencyRuns: LATENCY_RUNS,
          }).catch(() => null); // a start whose file does not run has no latency; the search still stands
          if (m?.latencyMs !== undefined) byTrial[start.id] = m.latencyMs;
        }
        const float = await measureFile(runtime, new Uint8Array(req.model), sample, 'the float model', {
          signal,
          latencyRuns: LATENCY_RUNS,
        }).catch(() => null);
        const fm = checked.fileMetrics;
        const floatTask = ctx.evaluator.floatTask;
        return {
          result,
          chosen: checked.trial.id,
          file: fm
            ? {
                metrics: fm,
                value: targetValue(target, fm, floatTask),
                meets: meets(target, fm, floatTask),
                bytes: checked.bytes.length + (externalBytes.get(checked.bytes) ?? 0),
              }
            : null,
          latency: { backend: req.backend, runs: LATENCY_RUNS, floatMs: float?.latencyMs ?? null, byTrial },
          refused: checked.refused,
          output: ctx.evaluator.output,
          classes: ctx.evaluator.classes,
          heldOut: req.heldOut.length,
        };
      } finally {
        await ctx.release();
      }
    });
    post({ type: 'tuned', id: req.id, summary });
  } catch (e) {
    const err = toErrorInfo(e);
    if (err.code !== 'CANCELLED') post({ type: 'error', id: req.id, error: err });
  }
}
