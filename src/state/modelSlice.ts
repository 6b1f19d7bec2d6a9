import type { StateCreator } from 'zustand/vanilla';
import { toErrorInfo } from '../core/errors';
import { modelFileOf, prepareModelBytes, prepareModelFiles, type PreparedModelInfo } from '../runtime/modelJob';
import type { Calibrator } from './calibrator';
import type { AppState, LoadedModel, ModelFile, ModelSlice } from './types';
import { idleCalibration } from './calibrationSlice';

/** Parse and prepare a model on this thread (Node tests, and the samples' small files). */
export function loadModelSync(
  fileName: string,
  bytes: Uint8Array,
  isSample: boolean,
  fixedInputs: Readonly<Record<string, number>> = {},
): LoadedModel {
  return prepareModelBytes(fileName, bytes, isSample, fixedInputs);
}

export function createModelSlice(calibrator: Calibrator): StateCreator<AppState, [], [], ModelSlice> {
  return (set, get) => {
    /** The load whose answer counts: a later one, or a cancel, makes an earlier one's answer stale. */
    let current = 0;

    const commit = (model: LoadedModel) => {
      // A new model ends any calibration of the old one; its statistics no longer apply.
      if (get().calibration.status === 'running') get().cancelCalibration();
      set({
        model,
        modelError: null,
        loading: false,
        loadStage: null,
        presetOverride: null,
        calibration: idleCalibration(),
        selectedTensor: null,
        exported: null,
        exportError: null,
        recipeRanges: null,
        comparison: { status: 'idle', results: null, error: null, heldOut: false, forExport: null },
      });
    };

    /**
     * Read, parse and prepare in the worker when there is one (the page's thread stays free at any
     * size), else here. The previous model (and its work) stays until the new one is ready; on an
     * error only the error is shown.
     */
    async function loadFiles(
      files: readonly ModelFile[],
      isSample: boolean,
      fixedInputs: Readonly<Record<string, number>>,
    ): Promise<boolean> {
      const token = ++current;
      set({ loading: true, loadStage: 'reading', modelError: null });
      let info: PreparedModelInfo;
      try {
        if (calibrator.load) {
          const job = calibrator.load(
            { files, isSample, fixedInputs },
            { onProgress: (_d, _t, stage) => token === current && set({ loadStage: stage ?? null }) },
          );
          loadJob = job.id;
          info = await job.result;
        } else {
          info = await prepareModelFiles(files, isSample, fixedInputs);
        }
      } catch (e) {
        if (token === current) set({ modelError: toErrorInfo(e), loading: false, loadStage: null });
        return false;
      }
      if (token !== current) return false;
      commit({ ...info, files });
      return true;
    }
    let loadJob: number | null = null;

    return {
      model: null,
      modelError: null,
      loading: false,
      loadStage: null,
      loadModel(fileName, bytes, opts = {}) {
        current++; // a load in the worker meanwhile is superseded
        try {
          commit(loadModelSync(fileName, bytes, opts.isSample ?? false, opts.fixedInputs));
        } catch (e) {
          // The previous model (and its work) stays; only the error is shown.
          set({ modelError: toErrorInfo(e), loading: false, loadStage: null });
        }
      },
      async loadModelFiles(files, opts = {}) {
        try {
          modelFileOf(files); // which file is the model: refused at once, naming them, when unclear
        } catch (e) {
          set({ modelError: toErrorInfo(e) });
          return false;
        }
        const isSample = opts.isSample ?? false;
        const loaded = await loadFiles(files, isSample, {});
        // A user's model starts with no data chosen: the built-in documents suit OCR models, not every
        // model, so the data panel offers them by name and the user picks.
        if (loaded && !isSample) get().clearData();
        return loaded;
      },
      cancelModelLoad() {
        if (!get().loading) return;
        current++;
        if (loadJob !== null) calibrator.cancel(loadJob);
        set({ loading: false, loadStage: null, modelError: { code: 'CANCELLED', message: 'loading was cancelled' } });
      },
      fixInput(name, value) {
        const m = get().model;
        if (!m) return;
        const fixedInputs = { ...m.fixedInputs };
        if (value === null) delete fixedInputs[name];
        else fixedInputs[name] = value;
        if (m.files) void loadFiles(m.files, m.isSample, fixedInputs);
        else get().loadModel(m.fileName, m.bytes, { isSample: m.isSample, fixedInputs });
      },
    };
  };
}
