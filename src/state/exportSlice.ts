import type { StateCreator } from 'zustand/vanilla';
import { calibratedRange } from '../core/calibratedRanges';
import { DEFAULT_CONFIG, type QuantConfig } from '../core/config';
import { applyConfigEdit } from '../core/configEdits';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import {
  exportForm,
  formFileTag,
  planQuantization,
  producerOpTypes,
  TRANSFORMERS_JS_PRESETS,
  decodeModel,
  encodeModel,
  type ModelProto,
  type TensorRange,
} from '../onnx';
import type { StatsMap } from '../runtime/calibrate';
import { roundedMap, type RoundingSummary } from '../runtime/roundJob';
import { roundingTargets } from '../runtime/weightRounding';
import {
  biasCorrectionTargets,
  wantsRewrite,
  withRenamedRanges,
  type ModelAlgorithmsReport,
} from '../runtime/modelAlgorithms';
import type { SampleSpec } from '../data/samples';
import { buildSamples } from '../data/buildSamples';
import { guardExportInPage, type ExportGuard } from './guard';
import { exportTfliteInPage } from './tfliteExport';
import { serializeRecipe } from '../core/recipe';
import { buildRecipe, checkRecipeModel, parseRecipe, rangesFromRecipe } from './recipe';
import type { AppState, Calibrator, ExportResult, ExportSlice, LoadedModel } from './types';
import { exportFileOf, type ExportFile } from '../runtime/modelJob';

/**
 * The calibrated ranges (core/calibratedRanges: the command line's too), computed in slices that
 * yield to the page between them: a histogram search (entropy, MSE) for each of a large model's
 * tensors would otherwise hold the page for as long as all of them take.
 */
export async function rangesFromStatsYielding(
  stats: StatsMap,
  config: QuantConfig,
  producerOf: (t: string) => string | undefined,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, TensorRange | null>> {
  const out = new Map<string, TensorRange | null>();
  const names = Object.keys(stats);
  let slice = performance.now();
  for (let i = 0; i < names.length; i++) {
    out.set(names[i]!, calibratedRange(stats[names[i]!]!, names[i]!, config, producerOf(names[i]!)));
    if (performance.now() - slice > 30) {
      onProgress?.(i + 1, names.length);
      await new Promise((r) => setTimeout(r, 0));
      slice = performance.now();
    }
  }
  return out;
}

/**
 * A plain export (no rewrite, rounding or bias correction: nothing the page holds that the worker does
 * not) of a model loaded from files is built in the model worker: the page receives a Blob of the
 * parts and never encodes on its thread. Null when the export is not plain, or there is no worker.
 */
async function exportInWorker(
  calibrator: Calibrator,
  model: LoadedModel,
  config: QuantConfig,
  working: WorkingModel,
  fileName: string,
  ranges?: ReadonlyMap<string, TensorRange | null>,
): Promise<ExportFile | null> {
  if (!calibrator.exportFile || !model.files || working.prepared !== model.prepared) return null;
  if (biasCorrectionTargets(working.prepared, config).length > 0) return null;
  const { result } = calibrator.exportFile({
    files: model.files,
    isSample: model.isSample,
    fixedInputs: model.fixedInputs,
    config,
    fileName,
    ...(ranges ? { ranges } : {}),
  });
  return { ...(await result), parts: null };
}

/** The export result, its `bytes` a lazy getter (never spread: that would read it). */
function exportResult(fields: Omit<ExportResult, 'blob' | 'size' | 'bytes'>, file: ExportFile): ExportResult {
  let bytes: Uint8Array | undefined;
  const result = {
    ...fields,
    blob: file.blob,
    size: file.size,
    ...(file.dataFile ? { dataFile: file.dataFile } : {}),
  } as ExportResult;
  Object.defineProperty(result, 'bytes', {
    enumerable: false,
    get() {
      if (!file.parts)
        throw new QuantscopeError('RUNTIME', 'this export was built in the worker: its bytes are in its Blob');
      if (!bytes) {
        bytes = new Uint8Array(file.size);
        let o = 0;
        for (const p of file.parts) {
          bytes.set(p, o);
          o += p.length;
        }
      }
      return bytes;
    },
  });
  return result;
}

/**
 * The guard rail (state/guard.ts): the export's outputs against the float model's; a file with external
 * data too large to run here is judged by its weights instead, checked tensor by tensor as it was
 * written (runtime/exportFile.ts, runtime/guardWeights.ts).
 */
async function guardExport(calibrator: Calibrator, state: AppState, file: ExportFile): Promise<ExportGuard> {
  const g = await guardExportInPage(calibrator, state, file.blob, file.dataFile);
  // the outputs not compared (both models past the page's memory, or no samples to run): the weights,
  // checked one by one as the export was written, judge it instead
  const w = file.weightGuard?.verdict;
  if (!g.verdict && w)
    return { verdict: { ...w, source: `${w.source}; ${g.note ?? 'the outputs not compared'}` }, note: null };
  return g;
}

/** The result with the guard's verdict (its lazy `bytes` kept: never spread). */
function withGuard(result: ExportResult, guard: ExportGuard): ExportResult {
  Object.defineProperty(result, 'guard', { value: guard, enumerable: true });
  return result;
}

/** The float model's size: its .onnx and its external data files. */
function floatModelBytes(model: LoadedModel): number {
  return model.files && model.files.length > 1 ? model.files.reduce((a, f) => a + f.blob.size, 0) : model.bytes.length;
}

/** `model.onnx` → `model.int8.onnx`. */
export function exportFileName(fileName: string, suffix = 'int8'): string {
  const base = fileName.replace(/\.onnx$/i, '');
  return `${base}.${suffix}.onnx`;
}

/**
 * Load the export in onnxruntime (and run it on one generated sample when the inputs allow) before it
 * is offered: the page never offers a file that does not load. Null when it loads; else the reason.
 */
async function checkLoads(calibrator: Calibrator, state: AppState, file: ExportFile): Promise<string | null> {
  if (!calibrator.probe || !state.model) return null;
  let sample: SampleSpec | null = null;
  try {
    sample =
      buildSamples(
        state.model.summary.inputs,
        null,
        { ...state, dataKind: 'generated', generatedCount: 1 },
        null,
        state.model.fixedInputs,
      )[0] ?? null;
  } catch {
    sample = null; // dynamic dimensions without values: load the file without running it
  }
  const backend = state.backend === 'cpu' ? 'cpu' : 'wasm';
  // a file written with external data loads with it (onnxruntime-web's externalData, by the name the .onnx records)
  const externalData = file.dataFile ? [{ path: file.dataFile.name, data: file.dataFile.blob }] : undefined;
  const { result } = calibrator.probe({
    models: [{ key: 'export', bytes: file.blob, sample, ...(externalData ? { externalData } : {}) }],
    backend,
    noFallback: false,
  });
  const r = (await result).results.export;
  return r && !r.runs ? r.error : null;
}

/**
 * GPTQ/AdaRound before a weight-only export, when the configuration asks for them (runtime/roundJob.ts
 * in the worker): the layers' inputs from the page's samples (calibration data, as the CLI's --data).
 */
async function roundInWorker(
  calibrator: Calibrator,
  state: AppState,
  config: QuantConfig,
  onProgress: (done: number, total: number) => void,
  working: WorkingModel,
): Promise<RoundingSummary | null> {
  const model = state.model!;
  if (roundingTargets(working.prepared, config).length === 0) return null;
  if (!calibrator.round)
    throw new QuantscopeError('RUNTIME', 'GPTQ and AdaRound need the worker, which is not running');
  let samples: SampleSpec[];
  try {
    samples = buildSamples(model.summary.inputs, model.imageInput, state, state.presetOverride, model.fixedInputs);
  } catch (e) {
    throw new QuantscopeError(
      'NO_STATISTICS',
      `GPTQ and AdaRound need data (the layers' inputs): ${(e as Error).message}`,
    );
  }
  if (samples.length === 0)
    throw new QuantscopeError('NO_STATISTICS', 'GPTQ and AdaRound need data: bring calibration samples first');
  const backend = state.backend === 'cpu' ? 'cpu' : 'wasm';
  const { result } = calibrator.round(
    { model: working.bytes.slice().buffer as ArrayBuffer, config, samples, backend },
    { onProgress },
  );
  return result;
}

/** The prepared model an export is built from: the page's, or its rewrite (equalization, SmoothQuant, bias correction). */
interface WorkingModel {
  readonly prepared: ModelProto;
  readonly bytes: Uint8Array;
  readonly report: ModelAlgorithmsReport;
  /** Static QDQ after a rewrite: the rewritten model's statistics. */
  readonly stats?: StatsMap;
  /** After bias correction: tensors renamed by an inserted Add (new → original). */
  readonly renamed?: ReadonlyMap<string, string>;
}

/** The page's samples for a job that needs data, or a coded error naming what is missing. */
function samplesForJob(state: AppState, what: string): SampleSpec[] {
  const model = state.model!;
  let samples: SampleSpec[];
  try {
    samples = buildSamples(model.summary.inputs, model.imageInput, state, state.presetOverride, model.fixedInputs);
  } catch (e) {
    throw new QuantscopeError('NO_STATISTICS', `${what} needs data: ${(e as Error).message}`);
  }
  if (samples.length === 0)
    throw new QuantscopeError('NO_STATISTICS', `${what} needs data: bring calibration samples first`);
  return samples;
}

/**
 * Equalization and SmoothQuant before calibration (runtime/algorithmsJob.ts 'rewrite', in the worker):
 * the model the export is built from; static QDQ gets the rewritten model's statistics with it.
 */
async function rewriteInWorker(
  calibrator: Calibrator,
  state: AppState,
  config: QuantConfig,
  onProgress: (done: number, total: number) => void,
): Promise<WorkingModel> {
  const model = state.model!;
  const plain: WorkingModel = { prepared: model.prepared, bytes: model.preparedBytes, report: {} };
  if (!wantsRewrite(config)) return plain;
  if (!calibrator.algorithms)
    throw new QuantscopeError('RUNTIME', 'equalization and SmoothQuant need the worker, which is not running');
  const qdq = (config.form ?? { kind: 'qdq' }).kind === 'qdq';
  const samples = config.algorithms?.smoothquant || qdq ? samplesForJob(state, 'SmoothQuant (and calibration)') : [];
  const { result } = calibrator.algorithms(
    {
      stage: 'rewrite',
      model: model.preparedBytes.slice().buffer as ArrayBuffer,
      config,
      samples,
      backend: state.backend === 'cpu' ? 'cpu' : 'wasm',
      ...(qdq ? { calibrationMode: state.calibrationMode } : {}),
    },
    { onProgress },
  );
  const r = await result;
  const bytes = new Uint8Array(r.model);
  return {
    prepared: decodeModel(bytes, 'the rewritten model'),
    bytes,
    report: r.report,
    ...(r.stats ? { stats: r.stats } : {}),
  };
}

/** Bias correction (runtime/algorithmsJob.ts 'bias', in the worker): the corrected model, or the same one when none is asked. */
async function correctBiasesInWorker(
  calibrator: Calibrator,
  state: AppState,
  config: QuantConfig,
  working: WorkingModel,
  exported: ModelProto,
  onProgress: (done: number, total: number) => void,
): Promise<WorkingModel | null> {
  if (biasCorrectionTargets(working.prepared, config).length === 0) return null;
  if (!calibrator.algorithms)
    throw new QuantscopeError('RUNTIME', 'bias correction needs the worker, which is not running');
  const e = encodeModel(exported);
  const { result } = calibrator.algorithms(
    {
      stage: 'bias',
      model: working.bytes.slice().buffer as ArrayBuffer,
      exported: e.buffer.slice(e.byteOffset, e.byteOffset + e.byteLength) as ArrayBuffer,
      config,
      samples: samplesForJob(state, 'bias correction'),
      backend: state.backend === 'cpu' ? 'cpu' : 'wasm',
    },
    { onProgress },
  );
  const r = await result;
  const bytes = new Uint8Array(r.model);
  return {
    prepared: decodeModel(bytes, 'the corrected model'),
    bytes,
    report: { ...working.report, ...r.report },
    renamed: new Map(r.renamed ?? []),
    ...(working.stats ? { stats: working.stats } : {}),
  };
}

export function createExportSlice(calibrator: Calibrator): StateCreator<AppState, [], [], ExportSlice> {
  return (set, get) => ({
    config: DEFAULT_CONFIG,
    exported: null,
    exportError: null,
    exporting: null,
    recipeRanges: null,
    recipeError: null,
    async loadRecipe(text, opts = {}) {
      try {
        const recipe = parseRecipe(text, 'recipe');
        const model = get().model;
        if (!model) throw new QuantscopeError('NO_STATISTICS', 'load the model the recipe names first');
        await checkRecipeModel(recipe, model, opts.force);
        const fixed = recipe.preparation.fixedInputs;
        if (JSON.stringify(fixed) !== JSON.stringify(model.fixedInputs))
          get().loadModel(model.fileName, model.bytes, { isSample: model.isSample, fixedInputs: fixed });
        if (recipe.calibration) get().setCalibrationMode(recipe.calibration.mode);
        set({ config: recipe.config, exported: null, recipeRanges: rangesFromRecipe(recipe), recipeError: null });
      } catch (e) {
        set({ recipeError: toErrorInfo(e) });
      }
    },
    async downloadRecipeText() {
      return serializeRecipe(await buildRecipe(get()));
    },
    setConfig(update) {
      set((s) => ({
        config: typeof update === 'function' ? update(s.config) : { ...s.config, ...update },
        exported: null,
      }));
    },
    editConfig(edit) {
      get().setConfig((c) => applyConfigEdit(c, edit));
    },
    async exportModel() {
      const { model, calibration, config } = get();
      try {
        if (!model) throw new QuantscopeError('NO_STATISTICS', 'load a model first');
        const t0 = performance.now();
        const form = config.form ?? { kind: 'qdq' };
        if (form.kind === 'tflite') {
          set({ exporting: { done: 0, total: 1 } });
          await new Promise((r) => setTimeout(r, 0)); // let the page show it
          const r = await exportTfliteInPage(get, (done, total) => set({ exporting: { done, total } }), form);
          if (get().config !== config || get().model !== model) return null;
          set({ exported: r, exportError: null, exporting: null });
          return r;
        }
        if (form.kind !== 'qdq') {
          // The other forms need no calibration: weights only, or activations quantized per run.
          set({ exporting: { done: 0, total: 1 } });
          await new Promise((r) => setTimeout(r, 0)); // let the page show it
          const progress = (done: number, total: number) => set({ exporting: { done, total } });
          let working = await rewriteInWorker(calibrator, get(), config, progress);
          const rounding = await roundInWorker(calibrator, get(), config, progress, working);
          if (get().config !== config || get().model !== model) return null;
          const rounded = rounding ? roundedMap(rounding) : undefined;
          const preset = TRANSFORMERS_JS_PRESETS.find((p) => JSON.stringify(p.form) === JSON.stringify(form));
          const fileName = preset ? preset.fileName : exportFileName(model.fileName, formFileTag(config));
          let file = rounded ? null : await exportInWorker(calibrator, model, config, working, fileName);
          if (!file) {
            let r = exportForm(working.prepared, config, undefined, rounded);
            const corrected = await correctBiasesInWorker(calibrator, get(), config, working, r.model, progress);
            if (corrected) {
              working = corrected;
              r = exportForm(working.prepared, config, undefined, rounded);
            }
            file = exportFileOf(r);
          }
          if (get().config !== config || get().model !== model) return null;
          const result = exportResult(
            {
              guard: { verdict: null, note: null },
              fileName,
              floatBytes: floatModelBytes(model),
              report: null,
              form: file.report,
              weightBytes: file.weightBytes,
              support: file.support,
              config,
              ranges: null,
              ms: performance.now() - t0,
              ...(rounding ? { rounding: { layers: rounding.layers, momentsMBps: rounding.momentsMBps } } : {}),
              ...(Object.keys(working.report).length ? { algorithms: working.report } : {}),
            },
            file,
          );
          if (get().config !== config || get().model !== model) return null;
          const problem = await checkLoads(calibrator, get(), file);
          if (problem)
            throw new QuantscopeError(
              'RUNTIME',
              `the ${file.report.form} file does not load in onnxruntime, so it is not offered: ${problem}`,
            );
          const guarded = withGuard(result, await guardExport(calibrator, get(), file));
          if (get().config !== config || get().model !== model) return null;
          set({ exported: guarded, exportError: null, exporting: null });
          return guarded;
        }
        const calibrated = calibration.stats !== null && calibration.statsFor === model.fileName;
        if (!calibrated && !get().recipeRanges) {
          throw new QuantscopeError(
            'NO_STATISTICS',
            `calibrate ${model.fileName} before exporting it as static QDQ (the other forms need no calibration)`,
          );
        }
        // The plan follows the configuration (exclusions change it); tensors it needs that were not
        // calibrated stay float, and the report says so.
        const progress = (done: number, total: number) => set({ exporting: { done, total } });
        let working = await rewriteInWorker(calibrator, get(), config, progress);
        if (get().config !== config || get().model !== model) return null;
        let plan = planQuantization(working.prepared, config);
        const producers = producerOpTypes(working.prepared);
        let ranges: Map<string, TensorRange | null>;
        if (working.stats || calibrated) {
          const stats = working.stats ?? calibration.stats!;
          set({ exporting: { done: 0, total: Object.keys(stats).length } });
          ranges = await rangesFromStatsYielding(
            stats,
            config,
            (t) => producers.get(t),
            (done, total) => set({ exporting: { done, total } }),
          );
          if (get().calibration.stats !== calibration.stats || get().config !== config) return null; // something changed meanwhile
        } else {
          ranges = new Map(get().recipeRanges!);
        }
        const fileName = exportFileName(model.fileName, formFileTag(config));
        let file = await exportInWorker(calibrator, model, config, working, fileName, ranges);
        if (!file) {
          let r = exportForm(working.prepared, config, { plan, ranges });
          const corrected = await correctBiasesInWorker(calibrator, get(), config, working, r.model, progress);
          if (corrected) {
            working = corrected;
            ranges = withRenamedRanges(ranges, corrected.renamed ?? new Map<string, string>());
            plan = planQuantization(working.prepared, config);
            r = exportForm(working.prepared, config, { plan, ranges });
          }
          file = exportFileOf(r);
        }
        if (get().config !== config || get().model !== model) return null;
        const result = exportResult(
          {
            guard: { verdict: null, note: null },
            fileName,
            floatBytes: floatModelBytes(model),
            report: file.qdqReport,
            form: file.report,
            weightBytes: file.weightBytes,
            support: file.support,
            config,
            ranges,
            ms: performance.now() - t0,
            ...(Object.keys(working.report).length ? { algorithms: working.report } : {}),
          },
          file,
        );
        const problem = await checkLoads(calibrator, get(), file);
        if (problem)
          throw new QuantscopeError(
            'RUNTIME',
            `the static QDQ file does not load in onnxruntime, so it is not offered: ${problem}`,
          );
        const guarded = withGuard(result, await guardExport(calibrator, get(), file));
        if (get().config !== config || get().model !== model) return null;
        set({ exported: guarded, exportError: null, exporting: null });
        return guarded;
      } catch (e) {
        set({ exportError: toErrorInfo(e), exporting: null });
        return null;
      }
    },
  });
}
