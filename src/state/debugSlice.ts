/**
 * The debugger and sensitivity as the page runs them (issue 12 §1, §2), both in the worker:
 *   debug        the float model against the static QDQ file the page would export now (the current
 *                configuration and calibrated ranges), per tensor, streamed (runtime/debug.ts);
 *   sensitivity  every group quantized alone and kept float alone over one switchboard session
 *                (runtime/tune/sensitivity.ts).
 * The command line's `quantscope debug` and `quantscope sensitivity` call the same functions. Both run
 * on held-out samples: the samples' own held-out images, else a split of the calibration data (said so).
 */
import type { StateCreator } from 'zustand/vanilla';
import { wantsEqualization, wantsSmoothQuant } from '../core/algorithms/choices';
import type { QuantConfig } from '../core/config';
import { QuantscopeError, toErrorInfo, type ErrorInfo } from '../core/errors';
import type { DebugResult } from '../runtime/debug';
import type { SensitivityReport } from '../runtime/sensitivityJob';
import { floatModelBytes } from './exportResult';
import { heldOutSamples, ocrTask } from './heldOutSamples';
import { checkJobFits, floatExternalData, switchboardModels } from './jobModels';
import type { Calibrator } from './calibrator';
import type { AppState } from './types';

/** The figures the views draw (the ui reads the runtime's types through the state layer). */
export type { DebugResult, TensorError } from '../runtime/debug';
export type { SensitivityReport } from '../runtime/sensitivityJob';
export type { EvalMetrics } from '../runtime/tune/evaluate';

/** Debug on at most this many samples (each runs both models with every quantized tensor fetched). */
export const DEBUG_SAMPLES = 4;
/** Sensitivity on at most this many samples (each group costs two evaluations of all of them). */
export const SENSITIVITY_SAMPLES = 4;

export type JobStatus = 'idle' | 'running' | 'done' | 'error' | 'cancelled';

interface JobState {
  readonly status: JobStatus;
  readonly runId: number | null;
  readonly progress: { readonly done: number; readonly total: number };
  readonly error: ErrorInfo | null;
  /** Which samples, in words. */
  readonly source: string | null;
  /** Wall time of the whole job as the page saw it (export, samples, worker). */
  readonly ms: number | null;
  /** The configuration it ran for (a later change makes the result stale). */
  readonly forConfig: QuantConfig | null;
}

export interface DebugState extends JobState {
  readonly result: DebugResult | null;
  /** What was debugged, in words (the static QDQ file and its choices). */
  readonly subject: string | null;
}

export interface SensitivityState extends JobState {
  readonly report: SensitivityReport | null;
}

export interface SensitivityOptions {
  readonly baseUrl?: string;
  /** Rank only this many groups, the debugger's worst (its last run must be for the current choices). */
  readonly worst?: number;
  /** Held-out samples, at most SENSITIVITY_SAMPLES. */
  readonly samples?: number;
}

/** The groups of the `n` activations with the lowest own SQNR in a debugger run. */
export function worstActivations(result: DebugResult, n: number): string[] {
  return result.tensors
    .filter((t) => t.kind === 'activation' && t.own)
    .sort((a, b) => a.own!.sqnrDb - b.own!.sqnrDb)
    .slice(0, n)
    .map((t) => t.tensor);
}

export interface DebugSlice {
  readonly debug: DebugState;
  readonly sensitivity: SensitivityState;
  /** Run the debugger on the static QDQ file the page would export now. `baseUrl` finds the samples' held-out images. */
  runDebug(opts?: { readonly baseUrl?: string; readonly samples?: number }): Promise<void>;
  cancelDebug(): void;
  /**
   * Rank the groups: all of them, or (`worst`) only the groups of the activations the last debugger run
   * found costliest alone (lowest own SQNR), a quick sweep on a model with hundreds of groups.
   */
  runSensitivity(opts?: SensitivityOptions): Promise<void>;
  cancelSensitivity(): void;
}

const IDLE: JobState = {
  status: 'idle',
  runId: null,
  progress: { done: 0, total: 0 },
  error: null,
  source: null,
  ms: null,
  forConfig: null,
};

export function createDebugSlice(calibrator: Calibrator): StateCreator<AppState, [], [], DebugSlice> {
  return (set, get) => {
    const calibratedFor = (s: AppState) =>
      s.model !== null && s.calibration.stats !== null && s.calibration.statsFor === s.model.fileName;
    return {
      debug: { ...IDLE, result: null, subject: null },
      sensitivity: { ...IDLE, report: null },
      async runDebug(opts = {}) {
        const t0 = performance.now();
        const { model, config } = get();
        const fail = (e: unknown) =>
          set({ debug: { ...get().debug, status: 'error', error: toErrorInfo(e), runId: null } });
        if (!calibrator.debug) return fail(new QuantscopeError('RUNTIME', 'the debugger needs the worker'));
        if (!model || !calibratedFor(get()))
          return fail(
            new QuantscopeError(
              'NO_STATISTICS',
              'calibrate first: the debugger compares the static QDQ export with the float model',
            ),
          );
        const stats = get().calibration.stats!;
        set({
          debug: {
            ...IDLE,
            result: null,
            subject: null,
            status: 'running',
            forConfig: config,
            progress: { done: 0, total: 1 },
          },
        });
        try {
          // the file the page would export now, as static QDQ (the form the debugger reads activations from)
          const qdq: QuantConfig =
            (config.form ?? { kind: 'qdq' }).kind === 'qdq' ? config : { ...config, form: { kind: 'qdq' } };
          const count = Math.max(1, Math.min(DEBUG_SAMPLES, opts.samples ?? DEBUG_SAMPLES));
          const { samples, source } = await heldOutSamples(get(), count, opts.baseUrl);
          if (get().config !== config || get().model !== model) return;
          // a model with external data: the float model and its QDQ file (its weights inline at a byte
          // each, the rest the same external references) must fit at once; the worker gets the data files
          const floatBytes = floatModelBytes(model);
          checkJobFits(get(), model, 'the debugger', [
            { what: 'the float model', bytes: floatBytes },
            { what: 'its static QDQ file (reading the same data files)', bytes: floatBytes },
          ]);
          const externalData = floatExternalData(model);
          const { id, result } = calibrator.debug(
            {
              float: model.preparedBytes.slice().buffer as ArrayBuffer,
              ...(externalData ? { externalData } : {}),
              // built in the worker from the same choices and statistics as Export (runtime/debugJob)
              config: qdq,
              stats,
              samples,
              backend: get().backend === 'cpu' ? 'cpu' : 'wasm',
            },
            {
              onProgress: (done, total) => {
                if (get().debug.runId === id) set({ debug: { ...get().debug, progress: { done, total } } });
              },
            },
          );
          // the rewrites Export applies around quantization are not applied here (yet): say so
          const rewrites = [
            wantsEqualization(config) ? 'equalization' : null,
            wantsSmoothQuant(config) ? 'SmoothQuant' : null,
            JSON.stringify(config).includes('"biasCorrection":true') ? 'bias correction' : null,
          ].filter((x) => x !== null);
          const subject =
            (qdq === config
              ? 'the static QDQ file Export writes now'
              : 'the static QDQ file of the current choices (the chosen export form has no quantized activations to trace)') +
            (rewrites.length ? ` without ${rewrites.join(', ')}, which the debugger does not apply` : '');
          set({ debug: { ...get().debug, runId: id, source, subject } });
          const res = await result;
          if (get().debug.runId !== id) return;
          set({
            debug: { ...get().debug, status: 'done', runId: null, result: res, ms: performance.now() - t0 },
          });
        } catch (e) {
          if (toErrorInfo(e).code === 'CANCELLED') return;
          fail(e);
        }
      },
      cancelDebug() {
        const id = get().debug.runId;
        if (id === null) return;
        calibrator.cancel(id);
        set({ debug: { ...get().debug, status: 'cancelled', runId: null } });
      },
      async runSensitivity(opts = {}) {
        const t0 = performance.now();
        const { model, config } = get();
        const fail = (e: unknown) =>
          set({ sensitivity: { ...get().sensitivity, status: 'error', error: toErrorInfo(e), runId: null } });
        if (!calibrator.sensitivity) return fail(new QuantscopeError('RUNTIME', 'sensitivity needs the worker'));
        if (!model) return fail(new QuantscopeError('NO_STATISTICS', 'load a model first'));
        const qdq = (config.form ?? { kind: 'qdq' }).kind === 'qdq';
        if (qdq && !calibratedFor(get()))
          return fail(
            new QuantscopeError('NO_STATISTICS', 'calibrate first: static QDQ sensitivity needs the calibrated ranges'),
          );
        set({
          sensitivity: { ...IDLE, report: null, status: 'running', forConfig: config, progress: { done: 0, total: 1 } },
        });
        try {
          let groups: string[] | undefined;
          if (opts.worst !== undefined) {
            const d = get().debug;
            if (!d.result || d.forConfig !== config)
              throw new QuantscopeError(
                'NO_STATISTICS',
                'run the debugger on the current choices first: the quick sweep ranks the groups it finds worst',
              );
            groups = worstActivations(d.result, opts.worst);
          }
          const count = Math.max(1, Math.min(SENSITIVITY_SAMPLES, opts.samples ?? SENSITIVITY_SAMPLES));
          const { samples, source } = await heldOutSamples(get(), count, opts.baseUrl);
          const task = await ocrTask(get(), samples, opts.baseUrl);
          if (get().config !== config || get().model !== model) return;
          // a model with external data: the switchboard must fit, and the worker gets the data files
          checkJobFits(get(), model, 'sensitivity', switchboardModels(floatModelBytes(model)));
          const externalData = floatExternalData(model);
          const { id, result } = calibrator.sensitivity(
            {
              model: model.preparedBytes.slice().buffer as ArrayBuffer,
              ...(externalData ? { externalData } : {}),
              config,
              stats: qdq ? get().calibration.stats : null,
              samples,
              // sizes are fractions of the float model's files (its data files included)
              floatBytes: floatModelBytes(model),
              backend: get().backend === 'cpu' ? 'cpu' : 'wasm',
              ...(groups ? { groups } : {}),
              ...(task ? { task } : {}),
            },
            {
              onProgress: (done, total) => {
                if (get().sensitivity.runId === id)
                  set({ sensitivity: { ...get().sensitivity, progress: { done, total } } });
              },
            },
          );
          set({ sensitivity: { ...get().sensitivity, runId: id, source } });
          const report = await result;
          if (get().sensitivity.runId !== id) return;
          set({
            sensitivity: { ...get().sensitivity, status: 'done', runId: null, report, ms: performance.now() - t0 },
          });
        } catch (e) {
          if (toErrorInfo(e).code === 'CANCELLED') return;
          fail(e);
        }
      },
      cancelSensitivity() {
        const id = get().sensitivity.runId;
        if (id === null) return;
        calibrator.cancel(id);
        set({ sensitivity: { ...get().sensitivity, status: 'cancelled', runId: null } });
      },
    };
  };
}
