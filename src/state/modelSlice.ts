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
  async loadModelFiles(files) {
    // One file is the model whatever its name (a wrong one gets the decoder's error, naming it); among
    // several, the .onnx is the model and the rest its external data.
    const onnx = files.length === 1 ? files : files.filter((f) => /\.onnx$/i.test(f.name));
    if (onnx.length !== 1) {
      const names = files.map((f) => f.name).join(', ');
      set({
        modelError: {
          code: 'NOT_ONNX',
          message:
            onnx.length === 0
              ? `none of the files given (${names}) is an .onnx model`
              : `several .onnx models were given together (${onnx.map((f) => f.name).join(', ')}): give one, with its external data files`,
        },
      });
      return false;
    }
    const file = onnx[0]!;
    const before = get().model;
    get().loadModel(file.name, new Uint8Array(await file.blob.arrayBuffer()));
    const loaded = get().model !== before;
    // A user's model starts with no data chosen: the built-in documents suit OCR models, not every model,
    // so the data panel offers them by name and the user picks.
    if (loaded) get().clearData();
    return loaded;
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
