/**
 * A model by URL (`?model=` or the page's field): a URL naming an `.onnx` file is fetched at once; a
 * repository's base URL is probed for the variants transformers.js's layout may hold (HEAD requests)
 * and the page offers those it finds. The chosen file and its external data files stream into the
 * browser's storage with progress (state/fetchModel), then load as a dropped model with its data files.
 */
import type { StateCreator } from 'zustand/vanilla';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import { externalDataUrls, locateModel } from '../data/modelRepo';
import { fetchToStorage, probeFile, type FetchedFile } from './fetchModel';
import type { AppState, RemoteModelState, RemoteSlice, RemoteVariant } from './types';

/** Progress is stored at most this often: a large file arrives in thousands of chunks. */
const PROGRESS_EVERY_MS = 100;
/** External data chunks tried beside a model (`_data`, `_data_1` ...): transformers.js splits at 2 GB. */
const MAX_DATA_CHUNKS = 8;

export function idleRemote(): RemoteModelState {
  return { status: 'idle', input: '', variants: [], progress: null, fromCache: false, error: null };
}

export const createRemoteSlice: StateCreator<AppState, [], [], RemoteSlice> = (set, get) => {
  let controller: AbortController | null = null;

  const begin = (): AbortSignal => {
    controller?.abort();
    controller = new AbortController();
    return controller.signal;
  };
  const patch = (p: Partial<RemoteModelState>) => set({ remote: { ...get().remote, ...p } });
  const fail = (e: unknown, signal: AbortSignal) => {
    if (signal !== controller?.signal) return; // a newer request took over
    const info = toErrorInfo(e);
    patch({ status: info.code === 'CANCELLED' ? 'cancelled' : 'error', error: info, progress: null });
  };

  /** The files to load: the model, then each data chunk the server has (stopping at the first it lacks). */
  async function fetchModelAndData(url: string, signal: AbortSignal): Promise<FetchedFile[]> {
    let last = 0;
    const progress = (file: string) => (loaded: number, total: number | null) => {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS && loaded !== total) return;
      last = now;
      patch({ progress: { file, loaded, total } });
    };
    const model = await fetchToStorage(url, { signal, onProgress: progress(url) });
    const files = [model];
    for (const dataUrl of externalDataUrls(url, MAX_DATA_CHUNKS)) {
      if (!(await probeFile(dataUrl, signal))) break;
      files.push(await fetchToStorage(dataUrl, { signal, onProgress: progress(dataUrl) }));
    }
    return files;
  }

  return {
    remote: idleRemote(),

    async openModelUrl(input) {
      const signal = begin();
      try {
        const where = locateModel(input, typeof location === 'undefined' ? 'http://localhost/' : location.href);
        set({ remote: { ...idleRemote(), input, status: where.kind === 'file' ? 'fetching' : 'probing' } });
        if (where.kind === 'file') return await get().fetchModelVariant(where.url);
        const found = await Promise.all(
          where.candidates.map(async (c): Promise<RemoteVariant | null> => {
            const p = await probeFile(c.url, signal);
            return p ? { ...c, size: p.size } : null;
          }),
        );
        const variants = found.filter((v): v is RemoteVariant => v !== null);
        if (signal !== controller?.signal) return;
        if (variants.length === 0) {
          throw new QuantscopeError(
            'URL_FETCH',
            `${where.base}: no model found there (tried ${where.candidates.map((c) => c.file).join(', ')})`,
          );
        }
        patch({ status: 'choosing', variants });
      } catch (e) {
        fail(e, signal);
      }
    },

    async fetchModelVariant(url) {
      const signal = begin();
      patch({ status: 'fetching', error: null, progress: { file: url, loaded: 0, total: null } });
      try {
        const files = await fetchModelAndData(url, signal);
        if (signal !== controller?.signal) return;
        await get().loadModelFiles(files.map((f) => ({ name: f.name, blob: f.blob })));
        patch({ status: 'done', progress: null, fromCache: files.every((f) => f.fromCache) });
      } catch (e) {
        fail(e, signal);
      }
    },

    cancelModelFetch() {
      controller?.abort();
    },
  };
};
