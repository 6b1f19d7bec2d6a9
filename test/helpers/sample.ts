/** The real models and rendered images the integration tests use. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FeedTensor } from '../../src/runtime/ort';
import { decodePng, imageToTensor, PPOCR_DET_PRESET } from '../../src/runtime/data/image';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODELS = join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets');

export function ocrModel(name: 'det' | 'rec' | 'cls'): Uint8Array {
  const file = { det: 'ch_PP-OCRv4_det_infer.onnx', rec: 'ch_PP-OCRv4_rec_infer.onnx', cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx' }[name];
  return new Uint8Array(readFileSync(join(MODELS, file)));
}

export const DOC_IMAGES = Array.from({ length: 16 }, (_, i) => join(ROOT, 'public', 'samples', 'det', `doc-${String(i + 1).padStart(2, '0')}.png`));

export function docFeeds(i: number): { x: FeedTensor } {
  return { x: imageToTensor(decodePng(new Uint8Array(readFileSync(DOC_IMAGES[i]!)), DOC_IMAGES[i]), PPOCR_DET_PRESET) };
}

/** Deterministic pseudo-random values in [-1, 1) (mulberry32). */
export function seededFloats(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  });
}
