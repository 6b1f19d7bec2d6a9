/**
 * Sensitivity as the page's worker runs it: the switchboard model over the prepared model (one
 * session for every configuration, float outputs cached: runtime/tune/prepare.ts) and the sweep of
 * runtime/tune/sensitivity.ts, the functions `quantscope sensitivity` calls, with progress, cancel
 * and the time taken. Only the ranking comes back.
 */
import type { QuantConfig } from '../core/config';
import { toErrorInfo } from '../core/errors';
import type { SampleSpec } from '../data/samples';
import type { StatsMap } from './calibrate';
import type { OrtModule } from './ort';
import { decodeJobModel, ortWithExternalData } from './modelSession';
import type { Backend, ExternalDataFile, WorkerReply } from './protocol';
import type { SerialQueue } from './serialQueue';
import { prepareTuning } from './tune/prepare';
import { sensitivity, type SensitivityResult } from './tune/sensitivity';
import { ocrDetectionTask, ocrRecognitionTask } from './tune/taskMetrics';
import type { TaskMetric } from './tune/evaluate';

/** The task metric, as data that crosses to the worker (runtime/tune/taskMetrics builds it there). */
export type TaskSpec =
  | { readonly kind: 'ocr-rec'; readonly dictionary: string; readonly texts: readonly (string | undefined)[] }
  | { readonly kind: 'ocr-det' };

export function taskMetricOf(spec: TaskSpec): TaskMetric {
  return spec.kind === 'ocr-rec' ? ocrRecognitionTask(spec.dictionary, spec.texts) : ocrDetectionTask();
}

export interface SensitivityRequest {
  readonly type: 'sensitivity';
  readonly id: number;
  /** The prepared model's bytes. */
  readonly model: ArrayBuffer;
  readonly config: QuantConfig;
  /** Calibration statistics (static QDQ); null for weight-only. */
  readonly stats: StatsMap | null;
  /** Held-out samples (or a split of the calibration data). */
  readonly samples: readonly SampleSpec[];
  readonly floatBytes: number;
  readonly backend: Backend;
  /** Rank only the groups holding these tensors (or with these ids: nodes, for weight-only); all when absent. */
  readonly groups?: readonly string[];
  /** The task metric where the page knows the task (the OCR samples' text, or boxes). */
  readonly task?: TaskSpec;
  /**
   * The model's external data files (by the locations it records), when it keeps its weights outside
   * the .onnx: the weight variants read them as lazy slices, and the switchboard's session gets them
   * (runtime/modelSession.ts).
   */
  readonly externalData?: readonly ExternalDataFile[];
}

export interface SensitivityReport extends SensitivityResult {
  /** The output the metrics read, and its class-axis size when it has one. */
  readonly output: string;
  readonly classes: number | null;
  /** Building the switchboard and caching the float outputs, before the sweep. */
  readonly setupMs: number;
  /** Groups in the model (the ranking may hold fewer: the request's `groups`). */
  readonly totalGroups: number;
  readonly samples: number;
  /** The task metric's name and the float model's score, when there is one. */
  readonly taskName: string | null;
  readonly floatTask: number | null;
}

export interface SensitivityReply {
  readonly type: 'sensitivity-ranked';
  readonly id: number;
  readonly report: SensitivityReport;
}

export async function runSensitivityJob(
  ort: OrtModule,
  req: SensitivityRequest,
  queue: SerialQueue,
  signal: AbortSignal,
  emit: (m: WorkerReply) => void,
): Promise<void> {
  try {
    const t0 = performance.now();
    const prepared = decodeJobModel(new Uint8Array(req.model), 'the prepared model', req.externalData);
    const report = await queue.run(async () => {
      const ctx = await prepareTuning(
        ortWithExternalData(ort, req.externalData),
        prepared,
        req.config,
        req.stats,
        req.samples,
        {
          floatBytes: req.floatBytes,
          signal,
          ...(req.task ? { task: taskMetricOf(req.task) } : {}),
        },
      );
      try {
        const setupMs = performance.now() - t0;
        // a requested tensor names the group that holds it (tensors that share a range are one group)
        const wanted = req.groups ? new Set(req.groups) : null;
        const only = wanted
          ? ctx.groups.filter((g) => wanted.has(g.id) || g.tensors.some((t) => wanted.has(t)))
          : undefined;
        const r = await sensitivity(ctx, {
          signal,
          only,
          onProgress: (p) => emit({ type: 'progress', id: req.id, done: p.done, total: p.total }),
        });
        return {
          ...r,
          output: ctx.evaluator.output,
          classes: ctx.evaluator.classes,
          setupMs,
          totalGroups: ctx.groups.length,
          samples: req.samples.length,
          taskName: ctx.evaluator.taskName,
          floatTask: ctx.evaluator.floatTask,
        };
      } finally {
        await ctx.release();
      }
    });
    if (!signal.aborted) emit({ type: 'sensitivity-ranked', id: req.id, report });
  } catch (e) {
    if (!signal.aborted) emit({ type: 'error', id: req.id, error: toErrorInfo(e) });
  }
}
