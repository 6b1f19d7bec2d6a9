import type { StateCreator } from 'zustand/vanilla';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import { decodeImage, isImageFile } from '../runtime/decodeImage';
import { buildSamples, type DataSelection } from '../data/buildSamples';
import type { DataFile } from './dataSlice';
import type { Backend } from '../runtime/protocol';
import { fetchSampleFiles, heldOutNames } from './sample';
import { floatModelBytes } from './exportResult';
import { checkJobFits, exportedExternalData, floatExternalData } from './jobModels';
import type { Calibrator } from './calibrator';
import type { AppState, CompareSlice } from './types';

/** Compare float and exported models on at most this many samples. */
export const COMPARE_SAMPLES = 8;

export function createCompareSlice(calibrator: Calibrator): StateCreator<AppState, [], [], CompareSlice> {
  return (set, get) => ({
    comparison: { status: 'idle', results: null, error: null, heldOut: false, forExport: null },
    speed: { status: 'idle', results: [], error: null, forExport: null, skipped: [] },
    async measureSpeed() {
      const { model, exported } = get();
      const fail = (e: unknown) => set({ speed: { ...get().speed, status: 'error', error: toErrorInfo(e) } });
      if (!model || !exported) return fail(new QuantscopeError('NO_STATISTICS', 'export the model first'));
      if (!calibrator.speed) return fail(new QuantscopeError('RUNTIME', 'speed measurement is not available here'));
      let sample;
      let floatData;
      try {
        // a model with external data: both sessions at once must fit, and each gets its data files
        checkJobFits(get(), model, 'timing the float model and the export', [
          { what: 'the float model', bytes: floatModelBytes(model) },
          { what: 'the export', bytes: exported.size },
        ]);
        floatData = floatExternalData(model);
        sample = buildSamples(
          model.summary.inputs,
          model.imageInput,
          get(),
          get().presetOverride,
          model.fixedInputs,
        )[0];
        if (!sample)
          throw new QuantscopeError(
            'NO_STATISTICS',
            'no sample to time the models on: load data or use generated data',
          );
      } catch (e) {
        return fail(e);
      }
      const gpu = await get().probeGpu();
      // the page's CPU backend is WASM; in Node (tests, CLI) it is onnxruntime-node's cpu
      const backends: Backend[] = [get().backend === 'cpu' ? 'cpu' : 'wasm'];
      const skipped: string[] = [];
      if (gpu.available && !gpu.fallback) backends.push('webgpu');
      else
        skipped.push(
          gpu.available
            ? `WebGPU: only a software fallback adapter (${gpu.description}), not timed`
            : `WebGPU: ${gpu.description}`,
        );
      set({ speed: { status: 'running', results: [], error: null, forExport: exported.fileName, skipped } });
      const quantData = exportedExternalData(exported);
      const results = [];
      try {
        for (const backend of backends) {
          // a fresh copy for each backend: the worker takes the sample's buffers
          const s =
            backend === backends[0]
              ? sample
              : buildSamples(
                  model.summary.inputs,
                  model.imageInput,
                  get(),
                  get().presetOverride,
                  model.fixedInputs,
                )[0]!;
          const { result } = calibrator.speed({
            float: model.preparedBytes.slice().buffer as ArrayBuffer,
            exported: exported.blob,
            ...(floatData ? { floatExternalData: floatData } : {}),
            ...(quantData ? { exportedExternalData: quantData } : {}),
            sample: s,
            backend,
            runs: 10,
          });
          results.push(await result);
          if (get().exported !== exported) return;
          set({ speed: { ...get().speed, results: [...results] } });
        }
        set({ speed: { ...get().speed, status: 'done' } });
      } catch (e) {
        if (get().exported === exported) fail(e);
      }
    },
    async exportAndCompare({ baseUrl, save }) {
      const r = await get().exportModel();
      if (!r) return null;
      save(r.fileName, r.blob);
      if (r.dataFile) save(r.dataFile.name, r.dataFile.blob); // beside it, by the name the .onnx records
      if (r.tflite) return r; // onnxruntime does not run .tflite: it ran in TFLite's interpreter instead
      const ocr = get().model?.ocr;
      let heldOut: DataFile[] | undefined;
      try {
        heldOut = ocr ? await fetchSampleFiles(baseUrl, ocr, heldOutNames(ocr)) : undefined;
      } catch {
        heldOut = undefined; // the held-out samples could not be fetched: compare on the calibration data
      }
      await get().compare(heldOut);
      return r;
    },
    async compare(heldOutFiles) {
      const { model, exported, backend } = get();
      const fail = (e: unknown) => set({ comparison: { ...get().comparison, status: 'error', error: toErrorInfo(e) } });
      if (!model || !exported) return fail(new QuantscopeError('NO_STATISTICS', 'export the model first'));
      let sel: DataSelection = get();
      if (heldOutFiles?.length) {
        const images = await Promise.all(
          heldOutFiles
            .filter((f: DataFile) => isImageFile(f.name))
            .map(async (f) => ({ name: f.name, image: await decodeImage(f.bytes, f.name) })),
        );
        sel = { ...sel, dataKind: 'images', images };
      }
      let samples;
      let floatData;
      try {
        samples = buildSamples(
          model.summary.inputs,
          model.imageInput,
          sel,
          get().presetOverride,
          model.fixedInputs,
        ).slice(0, COMPARE_SAMPLES);
        // a model with external data: both sessions at once must fit, and each gets its data files
        checkJobFits(get(), model, 'comparing the float model with the export', [
          { what: 'the float model', bytes: floatModelBytes(model) },
          { what: 'the export', bytes: exported.size },
        ]);
        floatData = floatExternalData(model);
      } catch (e) {
        return fail(e);
      }
      const quantData = exportedExternalData(exported);
      set({
        comparison: {
          status: 'running',
          results: null,
          error: null,
          heldOut: Boolean(heldOutFiles?.length),
          forExport: exported.fileName,
        },
      });
      try {
        const { result } = calibrator.compare({
          float: model.preparedBytes.slice().buffer as ArrayBuffer,
          quantized: exported.blob,
          ...(floatData ? { floatExternalData: floatData } : {}),
          ...(quantData ? { quantizedExternalData: quantData } : {}),
          samples,
          backend,
        });
        const results = await result;
        if (get().exported !== exported) return;
        set({ comparison: { ...get().comparison, status: 'done', results } });
      } catch (e) {
        if (get().exported === exported) fail(e);
      }
    },
  });
}
