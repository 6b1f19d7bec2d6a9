import type { StateCreator } from 'zustand/vanilla';
import { DEFAULT_CONFIG, HISTOGRAM_BINS, type QuantConfig } from '../core/config';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import { needsTorchHistograms } from '../core/presets';
import { planQuantization, type QuantPlan } from '../onnx/plan';
import { probeWebGpu, type GpuAdapterInfo } from '../runtime/gpu';
import { recurrentPairs } from '../core/guard';
import { calibrationTensors, whyNothingToCalibrate, type ModelProto } from '../onnx';
import { autoFixNote, constantScalarInputs } from '../data/autoFix';
import { buildSamples } from '../data/buildSamples';
import { sampleDims } from '../data/samples';
import { pageMemoryBudget, planPageCalibration } from '../runtime/pageMemory';
import { sessionExternalData } from '../runtime/modelJob';
import type { Calibrator } from './calibrator';
import type { AppState, CalibrationSlice, CalibrationState } from './types';

export function idleCalibration(): CalibrationState {
  return {
    status: 'idle',
    runId: null,
    runs: 0,
    statsData: null,
    progress: { done: 0, total: 0 },
    stats: null,
    statsFor: null,
    session: null,
    error: null,
    ms: null,
    inferenceMs: null,
    chained: [],
    notes: [],
  };
}

export function createCalibrationSlice(calibrator: Calibrator): StateCreator<AppState, [], [], CalibrationSlice> {
  let gpuProbe: Promise<GpuAdapterInfo> | undefined;
  return (set, get) => ({
    backend: 'wasm',
    gpu: null,
    probeGpu() {
      gpuProbe ??= probeWebGpu().then((gpu) => {
        set({ gpu });
        return gpu;
      });
      return gpuProbe;
    },
    calibrationMode: 'streaming',
    chainRecurrent: false,
    memoryBudget: null,
    gpuFold: true,
    foldWorkerBesideThreads: false,
    calibration: idleCalibration(),
    selectedTensor: null,
    setBackend(backend) {
      set({ backend });
    },
    setCalibrationMode(calibrationMode) {
      set({ calibrationMode });
    },
    setChainRecurrent(chainRecurrent) {
      set({ chainRecurrent });
    },
    async calibrate(notes: readonly string[] = []) {
      const { model, calibration, backend, calibrationMode, config } = get();
      if (calibration.status === 'running') return;
      const fail = (e: unknown): void =>
        set({ calibration: { ...get().calibration, status: 'error', runId: null, error: toErrorInfo(e) } });
      if (!model) return fail(new QuantscopeError('NO_STATISTICS', 'load a model first'));
      let samples;
      try {
        samples = buildSamples(model.summary.inputs, model.imageInput, get(), get().presetOverride, model.fixedInputs);
      } catch (e) {
        return fail(e);
      }
      // a scalar input the user's samples all give one value, that an If branches on (Silero's sr): fixed,
      // the model prepared again, and calibration run on that (generated constants are the page's own
      // defaults, not the data's word, so only files count)
      if (get().dataKind === 'tensors') {
        const auto = constantScalarInputs(samples, model.fixableInputs, model.fixedInputs);
        if (Object.keys(auto).length) {
          get().loadModel(model.fileName, model.bytes, {
            isSample: model.isSample,
            fixedInputs: { ...model.fixedInputs, ...auto },
          });
          if (get().model === model) return; // it did not load: its error is shown
          return get().calibrate([...notes, autoFixNote(auto)!]);
        }
      }
      const tensors = tensorsToCalibrate(model, config);
      const why = nothingToCalibrate(model);
      if (why) return fail(new QuantscopeError('NO_STATISTICS', `${model.fileName}: ${why}`));
      const chain = get().chainRecurrent ? recurrentPairs(model.summary.inputs, model.summary.outputs) : [];
      // Before anything is allocated: does it fit this browser? Refused in words with the numbers, or
      // split into passes over subsets of the tensors (runtime/pageMemory.ts).
      // A model that keeps its weights in external data files: the worker's session reads them itself
      // (onnxruntime-web's externalData, by the names the .onnx records), counted like inline weights.
      let externalData;
      try {
        externalData = model.files && model.files.length > 1 ? sessionExternalData(model.prepared, model.files) : [];
      } catch (e) {
        return fail(e);
      }
      let passes: readonly (readonly string[])[] | undefined;
      try {
        const dims = samples[0] ? sampleDims(samples[0]) : {};
        const deviceMemory =
          typeof navigator === 'undefined' ? undefined : (navigator as { deviceMemory?: number }).deviceMemory;
        const plan = planPageCalibration(
          model.prepared,
          model.summary.parameterBytes,
          tensors,
          dims,
          get().memoryBudget ?? pageMemoryBudget(deviceMemory),
        );
        if (plan.passes.length > 1) {
          passes = plan.passes;
          notes = [...notes, plan.note];
        }
      } catch (e) {
        return fail(e);
      }
      const { id, result } = calibrator.start(
        {
          // The worker adds the tensors as outputs: nothing is re-encoded on the page's thread.
          model: model.preparedBytes.slice().buffer as ArrayBuffer,
          tensors,
          // buildSamples copies every buffer: the page keeps its originals for the next run.
          samples,
          backend,
          bins: HISTOGRAM_BINS,
          mode: calibrationMode,
          torchHistograms: needsTorchHistograms(config),
          chain,
          ...(passes ? { passes } : {}),
          ...(get().gpuFold ? {} : { gpuFold: false }),
          ...(get().foldWorkerBesideThreads ? { foldWorkerBesideThreads: true } : {}),
          ...(externalData.length ? { externalData } : {}),
        },
        {
          onStarted: (session) => {
            if (get().calibration.runId === id) set({ calibration: { ...get().calibration, session } });
          },
          onProgress: (done, total) => {
            if (get().calibration.runId === id)
              set({ calibration: { ...get().calibration, progress: { done, total } } });
          },
        },
      );
      // Statistics of the previous run stay until this one finishes.
      const steps = calibrationMode === 'onnxruntime-exact' ? 2 * samples.length : samples.length;
      const dataGeneration = get().dataGeneration;
      set({
        calibration: {
          ...get().calibration,
          status: 'running',
          runId: id,
          runs: get().calibration.runs + 1,
          progress: { done: 0, total: steps },
          error: null,
        },
      });
      try {
        const r = await result;
        if (get().calibration.runId !== id) return;
        const first = get().selectedTensor ?? tensors[0] ?? null;
        set({
          calibration: {
            status: 'done',
            runId: null,
            runs: get().calibration.runs,
            statsData: dataGeneration,
            progress: { done: steps, total: steps },
            stats: r.stats,
            statsFor: model.fileName,
            session: r.session,
            error: null,
            ms: r.ms,
            inferenceMs: r.inferenceMs,
            chained: chain.map((c) => c.input),
            notes,
          },
          selectedTensor: first,
          exported: null,
        });
      } catch (e) {
        if (get().calibration.runId !== id) return;
        const info = toErrorInfo(e);
        set({
          calibration: {
            ...get().calibration,
            status: info.code === 'CANCELLED' ? 'cancelled' : 'error',
            runId: null,
            error: info.code === 'CANCELLED' ? null : info,
          },
        });
      }
    },
    cancelCalibration() {
      const { runId } = get().calibration;
      if (runId === null) return;
      calibrator.cancel(runId);
      set({ calibration: { ...get().calibration, status: 'cancelled', runId: null } });
    },
    selectTensor(t) {
      set({ selectedTensor: t });
    },
  });
}

/**
 * The tensors a calibration observes: the plan's activations and the model's inputs and outputs (TFLite
 * int8 needs theirs); a PyTorch preset observes more (a Linear's output before its ReLU). The calibrate
 * panel says this count.
 */
export function tensorsToCalibrate(
  model: { readonly prepared: ModelProto; readonly plan: QuantPlan },
  config: QuantConfig,
): string[] {
  const tensors = calibrationTensors(model.prepared, model.plan);
  if (config.placement !== 'pytorch-eager') return tensors;
  return [
    ...new Set([
      ...tensors,
      ...planQuantization(model.prepared, { ...DEFAULT_CONFIG, placement: config.placement }).activations,
    ]),
  ];
}

/**
 * Why this model, as it stands, has nothing to calibrate (every quantizable node inside control flow),
 * with the page's own fix (step 1's "Fix <input>", or calibration files that give the input one value);
 * null when it has something. The calibrate panel says it before the run, calibrate() refuses with it.
 */
export function nothingToCalibrate(model: {
  readonly prepared: ModelProto;
  readonly plan: QuantPlan;
  readonly fixableInputs: readonly string[];
  readonly fixedInputs: Readonly<Record<string, number>>;
}): string | null {
  return whyNothingToCalibrate(
    model.prepared,
    model.plan,
    model.fixableInputs,
    model.fixedInputs,
    (input) =>
      `give "Fix ${input}" in step 1 the value you deploy with, or load calibration files that all give it one value (generated data does not count)`,
  );
}
