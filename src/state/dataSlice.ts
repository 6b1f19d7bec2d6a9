import type { StateCreator } from 'zustand/vanilla';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import { decodeImage, isImageFile } from '../runtime/decodeImage';
import { readNpyFile, readNpzFile, readTensorProtoFile, type NamedTensor } from '../data/tensorFile';
import { buildSamples } from './buildSamples';
import type { AppState, DataSlice } from './types';

export interface DataFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Group files into samples: an image, an .npy or an .npz each make one; input_N.pb files make one per set. */
async function readFiles(
  files: readonly DataFile[],
): Promise<Pick<AppState, 'images' | 'tensorSamples'> & { kind: 'images' | 'tensors' }> {
  const images: { name: string; image: Awaited<ReturnType<typeof decodeImage>> }[] = [];
  const tensorSamples: { name: string; tensors: NamedTensor[] }[] = [];
  let pbGroup: { name: string; tensors: NamedTensor[] } | null = null;
  for (const f of files) {
    if (isImageFile(f.name)) images.push({ name: f.name, image: await decodeImage(f.bytes, f.name) });
    else if (/\.npy$/i.test(f.name)) tensorSamples.push({ name: f.name, tensors: [readNpyFile(f.bytes, f.name)] });
    else if (/\.npz$/i.test(f.name)) tensorSamples.push({ name: f.name, tensors: readNpzFile(f.bytes, f.name) });
    else if (/\.pb$/i.test(f.name)) {
      const t = readTensorProtoFile(f.bytes, f.name);
      // input_0.pb starts a new test-data set
      if (!pbGroup || /input_0\.pb$/.test(f.name)) {
        pbGroup = { name: f.name, tensors: [] };
        tensorSamples.push(pbGroup);
      }
      pbGroup.tensors.push(t);
    } else
      throw new QuantscopeError(
        'BAD_DATA',
        `${f.name}: not a calibration data file (images, .npy, .npz or input_N.pb)`,
      );
  }
  if (images.length && tensorSamples.length)
    throw new QuantscopeError('BAD_DATA', 'load either images or tensor files as calibration data, not both at once');
  if (!images.length && !tensorSamples.length) throw new QuantscopeError('BAD_DATA', 'no files were given');
  return { kind: images.length ? 'images' : 'tensors', images, tensorSamples };
}

/** Each load gets a number; only the latest load may commit (a slow one never overwrites a newer one). */
let generation = 0;

export const createDataSlice: StateCreator<AppState, [], [], DataSlice> = (set, get) => ({
  dataKind: 'none',
  images: [],
  tensorSamples: [],
  dataLabel: '',
  dataError: null,
  dataLoading: false,
  generatedCount: 16,
  generated: {},
  dimValues: {},
  presetOverride: null,
  async loadDataFiles(files, label, opts = {}) {
    if (opts.onlyIfEmpty && (get().dataKind !== 'none' || get().dataLoading)) return;
    const mine = ++generation;
    set({ dataLoading: true });
    try {
      const r = await readFiles(files);
      if (mine !== generation) return;
      const n = r.kind === 'images' ? r.images.length : r.tensorSamples.length;
      // Checked against the loaded model now, so a file that cannot feed it is refused on arrival.
      const model = get().model;
      if (model && (r.kind === 'tensors' || model.imageInput)) {
        buildSamples(
          model.summary.inputs,
          model.imageInput,
          { ...get(), dataKind: r.kind, images: r.images, tensorSamples: r.tensorSamples },
          get().presetOverride,
          model.fixedInputs,
        );
      }
      set({
        dataKind: r.kind,
        images: r.images,
        tensorSamples: r.tensorSamples,
        dataLabel:
          label ?? `${n} ${r.kind === 'images' ? 'image' : 'tensor'} sample${n === 1 ? '' : 's'} from your files`,
        dataError: null,
        dataLoading: false,
      });
    } catch (e) {
      // What was loaded before stays.
      if (mine === generation) set({ dataError: toErrorInfo(e), dataLoading: false });
    }
  },
  useGeneratedData(count) {
    set({ dataKind: 'generated', generatedCount: count, dataLabel: `${count} generated samples`, dataError: null });
  },
  setGenerated(input, settings) {
    set((s) => ({ generated: { ...s.generated, [input]: settings } }));
  },
  setDimValue(dim, value) {
    set((s) => ({ dimValues: { ...s.dimValues, [dim]: value } }));
  },
  setPresetOverride(preset) {
    set({ presetOverride: preset });
  },
});
