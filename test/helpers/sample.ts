/** The real models and rendered images the integration tests use. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/core/random';
import type { FeedTensor } from '../../src/runtime/ort';
import { decodePng, imageToTensor, PPOCR_DET_PRESET } from '../../src/data/image';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODELS = join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets');

export function ocrModel(name: 'det' | 'rec' | 'cls'): Uint8Array {
  const file = {
    det: 'ch_PP-OCRv4_det_infer.onnx',
    rec: 'ch_PP-OCRv4_rec_infer.onnx',
    cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
  }[name];
  return new Uint8Array(readFileSync(join(MODELS, file)));
}

export const DOC_IMAGES = Array.from({ length: 16 }, (_, i) =>
  join(ROOT, 'public', 'samples', 'det', `doc-${String(i + 1).padStart(2, '0')}.png`),
);

export function docFeeds(i: number): { x: FeedTensor } {
  return { x: imageToTensor(decodePng(new Uint8Array(readFileSync(DOC_IMAGES[i]!)), DOC_IMAGES[i]), PPOCR_DET_PRESET) };
}

/** Deterministic pseudo-random values in [-1, 1). */
export function seededFloats(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => rand() * 2 - 1);
}
