import type { StateCreator } from 'zustand/vanilla';
import { DEFAULT_CONFIG } from '../core/config';
import { isQuantscopeError, QuantscopeError, toErrorInfo } from '../core/errors';
import { decodeModel, encodeModel, fixableInputs, planQuantization, prepareModel, summarizeModel } from '../onnx';
import { imageInputOf, ocrKind } from '../data/modelInput';
import type { AppState, LoadedModel, ModelSlice } from './types';
import { idleCalibration } from './calibrationSlice';

export function loadModelSync(
  fileName: string,
  bytes: Uint8Array,
  isSample: boolean,
  fixedInputs: Readonly<Record<string, number>> = {},
): LoadedModel {
  const original = decodeModel(bytes, fileName);
  let prep;
  try {
    prep = prepareModel(original, { fixedInputs });
  } catch (e) {
    if (isQuantscopeError(e)) throw new QuantscopeError(e.code, `${fileName}: ${e.message}`);
    throw e;
  }
  const plan = planQuantization(prep.model, DEFAULT_CONFIG);
  const summary = summarizeModel(original, prep.model, plan, fileName, bytes.length, prep.log);
  return {
    fileName,
    bytes,
    prepared: prep.model,
    preparedBytes: encodeModel(prep.model),
    plan,
    summary,
    imageInput: imageInputOf(prep.model, isSample),
    isSample,
    ocr: ocrKind(prep.model),
    fixedInputs,
    fixableInputs: fixableInputs(original),
  };
}

export const createModelSlice: StateCreator<AppState, [], [], ModelSlice> = (set, get) => ({
  model: null,
  modelError: null,
  loading: false,
  loadModel(fileName, bytes, opts = {}) {
    // A new model ends any calibration of the old one; its statistics no longer apply.
    const running = get().calibration;
    if (running.status === 'running') get().cancelCalibration();
    try {
      const model = loadModelSync(fileName, bytes, opts.isSample ?? false, opts.fixedInputs);
      set({
        model,
        modelError: null,
        presetOverride: null,
        calibration: idleCalibration(),
        selectedTensor: null,
        exported: null,
        exportError: null,
        recipeRanges: null,
        comparison: { status: 'idle', results: null, error: null, heldOut: false, forExport: null },
      });
    } catch (e) {
      // The previous model (and its work) stays; only the error is shown.
      set({ modelError: toErrorInfo(e) });
    }
  },
  fixInput(name, value) {
    const m = get().model;
    if (!m) return;
    const fixedInputs = { ...m.fixedInputs };
    if (value === null) delete fixedInputs[name];
    else fixedInputs[name] = value;
    get().loadModel(m.fileName, m.bytes, { isSample: m.isSample, fixedInputs });
  },
});
