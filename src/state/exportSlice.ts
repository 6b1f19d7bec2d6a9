import type { StateCreator } from 'zustand/vanilla';
import { calibratedRange } from '../core/calibratedRanges';
import { DEFAULT_CONFIG, type QuantConfig } from '../core/config';
import { applyConfigEdit } from '../core/configEdits';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import {
  encodeModelParts,
  exportForm,
  formFileTag,
  initializerBytes,
  planQuantization,
  producerOpTypes,
  supportReport,
  TRANSFORMERS_JS_PRESETS,
  type TensorRange,
} from '../onnx';
import type { StatsMap } from '../runtime/calibrate';
import { roundedMap, type RoundingSummary } from '../runtime/roundJob';
import { roundingTargets } from '../runtime/weightRounding';
import type { SampleSpec } from '../data/samples';
import { buildSamples } from '../data/buildSamples';
import { guardExportInPage, type ExportGuard } from './guard';
import { exportTfliteInPage } from './tfliteExport';
import { serializeRecipe } from '../core/recipe';
import { buildRecipe, checkRecipeModel, parseRecipe, rangesFromRecipe } from './recipe';
import type { AppState, Calibrator, ExportResult, ExportSlice } from './types';

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

/** A file's parts as a Blob (no concatenation); `parts` is kept to make the bytes if something asks. */
function filePayload(parts: Uint8Array[]): { blob: Blob; size: number; parts: Uint8Array[] } {
  const blob = new Blob(parts as Uint8Array<ArrayBuffer>[], { type: 'application/octet-stream' });
  return { blob, size: blob.size, parts };
}

/** The export result, its `bytes` a lazy getter (never spread: that would read it). */
function exportResult(
  fields: Omit<ExportResult, 'blob' | 'size' | 'bytes'>,
  file: { blob: Blob; size: number; parts: Uint8Array[] },
): ExportResult {
  let bytes: Uint8Array | undefined;
  const result = { ...fields, blob: file.blob, size: file.size } as ExportResult;
  Object.defineProperty(result, 'bytes', {
    enumerable: false,
    get() {
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

/** The result with the guard's verdict (its lazy `bytes` kept: never spread). */
function withGuard(result: ExportResult, guard: ExportGuard): ExportResult {
  Object.defineProperty(result, 'guard', { value: guard, enumerable: true });
  return result;
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
async function checkLoads(calibrator: Calibrator, state: AppState, file: Blob): Promise<string | null> {
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
  const { result } = calibrator.probe({ models: [{ key: 'export', bytes: file, sample }], backend, noFallback: false });
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
): Promise<RoundingSummary | null> {
  const model = state.model!;
  if (roundingTargets(model.prepared, config).length === 0) return null;
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
    { model: model.preparedBytes.slice().buffer as ArrayBuffer, config, samples, backend },
    { onProgress },
  );
  return result;
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
          const rounding = await roundInWorker(calibrator, get(), config, (done, total) =>
            set({ exporting: { done, total } }),
          );
          if (get().config !== config || get().model !== model) return null;
          const r = exportForm(model.prepared, config, undefined, rounding ? roundedMap(rounding) : undefined);
          const file = filePayload(encodeModelParts(r.model));
          const preset = TRANSFORMERS_JS_PRESETS.find((p) => JSON.stringify(p.form) === JSON.stringify(form));
          const result = exportResult(
            {
              guard: { verdict: null, note: null },
              fileName: preset ? preset.fileName : exportFileName(model.fileName, formFileTag(config)),
              floatBytes: model.bytes.length,
              report: null,
              form: r.report,
              weightBytes: initializerBytes(r.model.graph!.initializer),
              support: supportReport(r.model),
              config,
              ranges: null,
              ms: performance.now() - t0,
              ...(rounding ? { rounding: { layers: rounding.layers, momentsMBps: rounding.momentsMBps } } : {}),
            },
            file,
          );
          if (get().config !== config || get().model !== model) return null;
          const problem = await checkLoads(calibrator, get(), file.blob);
          if (problem)
            throw new QuantscopeError(
              'RUNTIME',
              `the ${r.report.form} file does not load in onnxruntime, so it is not offered: ${problem}`,
            );
          const guarded = withGuard(result, await guardExportInPage(calibrator, get(), file.blob));
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
        const plan = planQuantization(model.prepared, config);
        const producers = producerOpTypes(model.prepared);
        let ranges: Map<string, TensorRange | null>;
        if (calibrated) {
          set({ exporting: { done: 0, total: Object.keys(calibration.stats!).length } });
          ranges = await rangesFromStatsYielding(
            calibration.stats!,
            config,
            (t) => producers.get(t),
            (done, total) => set({ exporting: { done, total } }),
          );
          if (get().calibration.stats !== calibration.stats || get().config !== config) return null; // something changed meanwhile
        } else {
          ranges = new Map(get().recipeRanges!);
        }
        const r = exportForm(model.prepared, config, { plan, ranges });
        const file = filePayload(encodeModelParts(r.model));
        const result = exportResult(
          {
            guard: { verdict: null, note: null },
            fileName: exportFileName(model.fileName, formFileTag(config)),
            floatBytes: model.bytes.length,
            report: r.qdqReport!,
            form: r.report,
            weightBytes: initializerBytes(r.model.graph!.initializer),
            support: supportReport(r.model),
            config,
            ranges,
            ms: performance.now() - t0,
          },
          file,
        );
        const problem = await checkLoads(calibrator, get(), file.blob);
        if (problem)
          throw new QuantscopeError(
            'RUNTIME',
            `the static QDQ file does not load in onnxruntime, so it is not offered: ${problem}`,
          );
        const guarded = withGuard(result, await guardExportInPage(calibrator, get(), file.blob));
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
