import type { StateCreator } from 'zustand/vanilla';
import { DEFAULT_CONFIG } from '../core/config';
import { applyConfigEdit } from '../core/configEdits';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import {
  exportForm,
  formFileTag,
  planQuantization,
  producerOpTypes,
  TRANSFORMERS_JS_PRESETS,
  type TensorRange,
} from '../onnx';
import { roundedMap } from '../runtime/roundJob';
import { withRenamedRanges } from '../runtime/modelAlgorithms';
import { exportTfliteInPage } from './tfliteExport';
import { serializeRecipe } from '../core/recipe';
import { buildRecipe, checkRecipeModel, parseRecipe, rangesFromRecipe } from './recipe';
import type { Calibrator } from './calibrator';
import type { AppState, ExportSlice } from './types';
import { exportFileOf } from '../runtime/modelJob';
import { rangesFromStatsYielding } from './exportRanges';
import { exportFileName, exportResult, floatModelBytes, withGuard } from './exportResult';
import { checkLoads, guardExport } from './exportChecks';
import { correctBiasesInWorker, exportInWorker, rewriteInWorker, roundInWorker } from './exportWorkerJobs';

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
          const r = await exportTfliteInPage(get, calibrator, (exporting) => set({ exporting }), form);
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
          set({ exporting: { done: 0, total: 1, checking: 'onnx' } });
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
        set({ exporting: { done: 0, total: 1, checking: 'onnx' } });
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
