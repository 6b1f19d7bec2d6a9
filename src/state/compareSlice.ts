import type { StateCreator } from 'zustand/vanilla';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import { decodeImage, isImageFile } from '../runtime/data/decodeImage';
import { buildSamples, type DataSelection } from './buildSamples';
import type { DataFile } from './dataSlice';
import type { AppState, Calibrator, CompareSlice } from './types';

/** Compare float and exported models on at most this many samples. */
export const COMPARE_SAMPLES = 8;

export function createCompareSlice(calibrator: Calibrator): StateCreator<AppState, [], [], CompareSlice> {
  return (set, get) => ({
    comparison: { status: 'idle', results: null, error: null, heldOut: false, forExport: null },
    async compare(heldOutFiles) {
      const { model, exported, backend } = get();
      const fail = (e: unknown) => set({ comparison: { ...get().comparison, status: 'error', error: toErrorInfo(e) } });
      if (!model || !exported) return fail(new QuantscopeError('NO_STATISTICS', 'export the model first'));
      let sel: DataSelection = get();
      if (heldOutFiles?.length) {
        const images = await Promise.all(heldOutFiles.filter((f: DataFile) => isImageFile(f.name)).map(async (f) => ({ name: f.name, image: await decodeImage(f.bytes, f.name) })));
        sel = { ...sel, dataKind: 'images', images };
      }
      let samples;
      try {
        samples = buildSamples(model.summary.inputs, model.imageInput, sel, get().presetOverride).slice(0, COMPARE_SAMPLES);
      } catch (e) {
        return fail(e);
      }
      set({ comparison: { status: 'running', results: null, error: null, heldOut: Boolean(heldOutFiles?.length), forExport: exported.fileName } });
      try {
        const { result } = calibrator.compare({
          float: model.preparedBytes.slice().buffer as ArrayBuffer,
          quantized: exported.bytes.slice().buffer as ArrayBuffer,
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
