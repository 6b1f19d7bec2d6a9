import type { StateCreator } from 'zustand/vanilla';
import { QuantscopeError, toErrorInfo, type ErrorInfo } from '../core/errors';
import { decodeImage, isImageFile } from '../runtime/decodeImage';
import { readNpyFile, readNpzFile, readTensorProtoFile, type NamedTensor } from '../data/tensorFile';
import { buildSamples } from '../data/buildSamples';
import type { AppState, DataSlice } from './types';

export interface DataFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** A file left out of a selection, and why (the good files of the same selection are kept). */
export interface RefusedFile {
  readonly name: string;
  readonly error: ErrorInfo;
}

type ImageSample = { name: string; image: Awaited<ReturnType<typeof decodeImage>> };
type TensorSample = { name: string; tensors: NamedTensor[] };

/**
 * Group files into samples: an image, an .npy or an .npz each make one; input_N.pb files make one per
 * set. A file that cannot be read is refused with its reason and the rest are kept; so is the smaller
 * kind when images and tensor files come together (one kind of data at a time).
 */
async function readFiles(files: readonly DataFile[]): Promise<{
  kind: 'images' | 'tensors' | null;
  images: ImageSample[];
  tensorSamples: TensorSample[];
  refused: RefusedFile[];
}> {
  const images: ImageSample[] = [];
  const tensorSamples: TensorSample[] = [];
  const refused: RefusedFile[] = [];
  let pbGroup: TensorSample | null = null;
  for (const f of files) {
    try {
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
    } catch (e) {
      refused.push({ name: f.name, error: toErrorInfo(e) });
    }
  }
  if (images.length && tensorSamples.length) {
    const keepImages = images.length >= tensorSamples.length;
    const dropped = keepImages ? tensorSamples.splice(0) : images.splice(0);
    for (const d of dropped)
      refused.push({
        name: d.name,
        error: {
          code: 'BAD_DATA',
          message: `${d.name}: a ${keepImages ? 'tensor file' : 'image'} among ${keepImages ? 'images' : 'tensor files'} (load one kind of data at a time)`,
        },
      });
  }
  const kind = images.length ? 'images' : tensorSamples.length ? 'tensors' : null;
  return { kind, images, tensorSamples, refused };
}

export const createDataSlice: StateCreator<AppState, [], [], DataSlice> = (set, get) => ({
  dataKind: 'none',
  images: [],
  tensorSamples: [],
  dataLabel: '',
  dataError: null,
  refusedFiles: [],
  dataLoading: false,
  dataGeneration: 0,
  generatedCount: 16,
  generated: {},
  dimValues: {},
  presetOverride: null,
  async loadDataFiles(files, label, opts = {}) {
    // a load asked for before its files were fetched yields to any choice made meanwhile
    if (opts.askedAt !== undefined && opts.askedAt !== get().dataGeneration) return;
    // Each load gets a number; only the latest may commit (a slow one never overwrites a newer one).
    const mine = get().dataGeneration + 1;
    set({ dataLoading: true, dataGeneration: mine });
    try {
      if (!files.length) throw new QuantscopeError('BAD_DATA', 'no files were given');
      const r = await readFiles(files);
      if (mine !== get().dataGeneration) return;
      let { images, tensorSamples } = r;
      const refused = [...r.refused];
      // Checked against the loaded model now, sample by sample: one that cannot feed it is refused
      // on arrival, by name, and the others are kept.
      const model = get().model;
      if (model && r.kind && (r.kind === 'tensors' || model.imageInput)) {
        const feeds = (sel: Pick<AppState, 'images' | 'tensorSamples'>): boolean => {
          try {
            buildSamples(
              model.summary.inputs,
              model.imageInput,
              { ...get(), dataKind: r.kind!, ...sel },
              get().presetOverride,
              model.fixedInputs,
            );
            return true;
          } catch (e) {
            refused.push({ name: (sel.images[0] ?? sel.tensorSamples[0])!.name, error: toErrorInfo(e) });
            return false;
          }
        };
        images = images.filter((i) => feeds({ images: [i], tensorSamples: [] }));
        tensorSamples = tensorSamples.filter((t) => feeds({ images: [], tensorSamples: [t] }));
      }
      const n = r.kind === 'images' ? images.length : tensorSamples.length;
      if (!r.kind || n === 0) {
        // nothing usable: what was loaded before stays, and each file says why it was refused
        set({ dataError: refused[0]!.error, refusedFiles: refused, dataLoading: false });
        return;
      }
      set({
        dataKind: r.kind,
        images,
        tensorSamples,
        dataLabel:
          label ?? `${n} ${r.kind === 'images' ? 'image' : 'tensor'} sample${n === 1 ? '' : 's'} from your files`,
        dataError: null,
        refusedFiles: refused,
        dataLoading: false,
      });
    } catch (e) {
      // What was loaded before stays.
      if (mine === get().dataGeneration) set({ dataError: toErrorInfo(e), refusedFiles: [], dataLoading: false });
    }
  },
  clearData() {
    set((s) => ({
      dataGeneration: s.dataGeneration + 1,
      dataKind: 'none',
      images: [],
      tensorSamples: [],
      dataLabel: '',
      dataError: null,
      refusedFiles: [],
      dataLoading: false,
    }));
  },
  useGeneratedData(count) {
    set((s) => ({
      dataGeneration: s.dataGeneration + 1,
      dataKind: 'generated',
      generatedCount: count,
      dataLabel: `${count} generated samples`,
      dataError: null,
      refusedFiles: [],
      dataLoading: false,
    }));
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
