/**
 * Tune in the page: the target, the run in the worker (runtime/tuneJob: the command line's engine) and
 * its result. The configuration it chooses (or the trial the user picks on the Pareto plot) becomes the
 * one QuantConfig, as per-tensor and per-node overrides: the explorer shows it, Export writes it and the
 * recipe records it, like any choice made by hand.
 */
import type { StateCreator } from 'zustand/vanilla';
import type { QuantConfig } from '../core/config';
import { QuantscopeError, toErrorInfo, type ErrorInfo } from '../core/errors';
import { guardSplit } from '../core/guard';
import { buildSamples, type DataSelection } from '../data/buildSamples';
import type { SampleSpec } from '../data/samples';
import { decodeImage, isImageFile } from '../runtime/decodeImage';
import type { TuneProgress, TuneSummary } from '../runtime/tuneJob';
import type { Target } from '../runtime/tune/target';
import { fetchSampleFiles, heldOutNames } from './sample';
import { ocrTask } from './heldOutSamples';
import { floatModelBytes } from './exportResult';
import { checkJobFits, floatExternalData, switchboardModels } from './jobModels';
import type { Calibrator } from './calibrator';
import type { AppState } from './types';

export { targetLabel, type Target } from '../runtime/tune/target';
export type { Change, Trial } from '../runtime/tune/trial';
export type { TuneSummary } from '../runtime/tuneJob';
export { FILE_NUDGES } from '../runtime/tune/verify';

/** At most this many held-out samples judge each configuration (each runs the switchboard once). */
export const TUNE_SAMPLES = 8;

export type TuneStatus = 'idle' | 'running' | 'done' | 'error' | 'cancelled';

export interface TuneState {
  readonly status: TuneStatus;
  readonly runId: number | null;
  readonly progress: { readonly done: number; readonly total: number } & TuneProgress;
  readonly summary: TuneSummary | null;
  /** The trial whose configuration is the page's now (the engine's choice, or the user's pick). */
  readonly picked: number | null;
  /** The configuration tuning started from (its first trial). */
  readonly startConfig: QuantConfig | null;
  /** The model the result belongs to. */
  readonly forModel: string | null;
  /** Where the held-out samples came from, in words. */
  readonly heldOutSource: string | null;
  readonly error: ErrorInfo | null;
}

export interface TuneSlice {
  readonly tuning: TuneState;
  /** Null: the default target (top-1 agreement >= 0.99 along a class axis, else output SQNR >= 30 dB). */
  readonly tuneTarget: Target | null;
  /** Null: the model's first output that is not recurrent state. */
  readonly tuneOutput: string | null;
  setTuneTarget(t: Target | null): void;
  setTuneOutput(o: string | null): void;
  /** Search for the smallest configuration that meets the target; `baseUrl` fetches the samples' held-out files. */
  tune(opts?: { readonly baseUrl?: string }): Promise<void>;
  cancelTune(): void;
  /** Make a trial's configuration the page's (a point picked on the Pareto plot). */
  pickTrial(id: number): void;
}

export function idleTuning(): TuneState {
  return {
    status: 'idle',
    runId: null,
    progress: { done: 0, total: 0, phase: '', trials: 0, metric: null, target: null },
    summary: null,
    picked: null,
    startConfig: null,
    forModel: null,
    heldOutSource: null,
    error: null,
  };
}

/**
 * The samples each configuration is judged on: the built-in held-out lines or pages for the PP-OCR
 * samples (never calibrated on); otherwise the calibration data's last fifth, as the guard rail splits it.
 */
async function heldOutSamples(state: AppState, baseUrl?: string): Promise<{ samples: SampleSpec[]; source: string }> {
  const model = state.model!;
  const build = (sel: DataSelection) =>
    buildSamples(model.summary.inputs, model.imageInput, sel, state.presetOverride, model.fixedInputs);
  if (model.isSample && model.ocr && baseUrl !== undefined) {
    const files = await fetchSampleFiles(baseUrl, model.ocr, heldOutNames(model.ocr));
    const images = await Promise.all(
      files
        .filter((f) => isImageFile(f.name))
        .map(async (f) => ({ name: f.name, image: await decodeImage(f.bytes, f.name) })),
    );
    const samples = build({ ...state, dataKind: 'images', images }).slice(0, TUNE_SAMPLES);
    return { samples, source: `${samples.length} held-out ${model.ocr === 'rec' ? 'text lines' : 'pages'} (built-in)` };
  }
  const all = build(state);
  if (all.length === 0) throw new QuantscopeError('NO_STATISTICS', 'Tune needs samples to judge on: choose data first');
  const split = guardSplit(all.length);
  const samples = split.indices.slice(-TUNE_SAMPLES).map((i) => all[i]!);
  return {
    samples,
    source: `no held-out samples: the last ${samples.length} of the ${all.length} calibration samples (calibrated on too, so the result is optimistic)`,
  };
}

export function createTuneSlice(calibrator: Calibrator): StateCreator<AppState, [], [], TuneSlice> {
  // each tune() or cancelTune() starts a new generation: a run asked for earlier stops at its next step
  let generation = 0;
  return (set, get) => ({
    tuning: idleTuning(),
    tuneTarget: null,
    tuneOutput: null,
    setTuneTarget(tuneTarget) {
      set({ tuneTarget });
    },
    setTuneOutput(tuneOutput) {
      set({ tuneOutput });
    },
    async tune(opts = {}) {
      const { model, calibration, config, tuning, backend } = get();
      if (tuning.status === 'running') return;
      const fail = (e: unknown): void =>
        set({ tuning: { ...get().tuning, status: 'error', runId: null, error: toErrorInfo(e) } });
      if (!model) return fail(new QuantscopeError('NO_STATISTICS', 'load a model first'));
      if (!calibrator.tune) return fail(new QuantscopeError('RUNTIME', 'Tune needs the worker, which is not running'));
      const qdq = (config.form ?? { kind: 'qdq' }).kind === 'qdq';
      const calibrated = calibration.stats !== null && calibration.statsFor === model.fileName;
      if (qdq && !calibrated)
        return fail(
          new QuantscopeError('NO_STATISTICS', `calibrate ${model.fileName} first: Tune searches its ranges`),
        );
      const mine = ++generation;
      // running from the moment it is asked: the held-out files are fetched meanwhile, and Export waits
      set({
        tuning: {
          ...idleTuning(),
          status: 'running',
          progress: { done: 0, total: 0, phase: 'preparing', trials: 0, metric: null, target: null },
        },
      });
      let held: { samples: SampleSpec[]; source: string };
      try {
        held = await heldOutSamples(get(), opts.baseUrl);
      } catch (e) {
        return fail(e);
      }
      // a task-drop target reads the task metric: the built-in lines' own text, or the pages' boxes
      const wantsTask = get().tuneTarget?.metric === 'task-drop';
      const task = wantsTask ? await ocrTask(get(), held.samples, opts.baseUrl) : null;
      if (mine !== generation) return; // cancelled (or asked again) while the files were fetched
      if (wantsTask && !task)
        return fail(
          new QuantscopeError(
            'BAD_DATA',
            'a task-metric target needs a task the page knows: the built-in OCR samples (their text or boxes)',
          ),
        );
      // a model with external data: the switchboard must fit, and the worker gets the data files
      let externalData;
      try {
        checkJobFits(get(), model, 'Tune', switchboardModels(floatModelBytes(model)));
        externalData = floatExternalData(model);
      } catch (e) {
        return fail(e);
      }
      const { id, result } = calibrator.tune(
        {
          model: model.preparedBytes.slice().buffer as ArrayBuffer,
          ...(externalData ? { externalData } : {}),
          // sizes are fractions of the float model's files (its data files included)
          floatBytes: floatModelBytes(model),
          config,
          stats: qdq ? calibration.stats : null,
          heldOut: held.samples,
          target: get().tuneTarget,
          output: get().tuneOutput,
          backend: backend === 'cpu' ? 'cpu' : 'wasm',
          task,
        },
        {
          onTuneProgress: (p) => {
            if (get().tuning.runId === id)
              set({ tuning: { ...get().tuning, progress: { ...get().tuning.progress, ...p } } });
          },
          onProgress: (done, total) => {
            if (get().tuning.runId === id)
              set({ tuning: { ...get().tuning, progress: { ...get().tuning.progress, done, total } } });
          },
        },
      );
      set({ tuning: { ...get().tuning, runId: id, heldOutSource: held.source, startConfig: config } });
      try {
        const summary = await result;
        if (get().tuning.runId !== id) return;
        if (get().model !== model) {
          // another model was loaded meanwhile: this choice is not its configuration
          set({ tuning: { ...idleTuning(), status: 'cancelled' } });
          return;
        }
        const chosen = summary.result.trials[summary.chosen]!;
        set({
          tuning: {
            ...get().tuning,
            status: 'done',
            runId: null,
            summary,
            picked: chosen.id,
            forModel: model.fileName,
            error: null,
          },
          // the choice is the page's configuration now: Export writes it at once
          config: chosen.config,
          exported: null,
        });
      } catch (e) {
        if (get().tuning.runId !== id) return;
        const info = toErrorInfo(e);
        set({
          tuning: {
            ...get().tuning,
            status: info.code === 'CANCELLED' ? 'cancelled' : 'error',
            runId: null,
            error: info.code === 'CANCELLED' ? null : info,
          },
        });
      }
    },
    cancelTune() {
      const { runId, status } = get().tuning;
      if (status !== 'running') return;
      generation++;
      if (runId !== null) calibrator.cancel(runId);
      set({ tuning: { ...get().tuning, status: 'cancelled', runId: null } });
    },
    pickTrial(id) {
      const { summary } = get().tuning;
      const trial = summary?.result.trials.find((t) => t.id === id);
      if (!trial) return;
      set({ tuning: { ...get().tuning, picked: id }, config: trial.config, exported: null });
    },
  });
}
