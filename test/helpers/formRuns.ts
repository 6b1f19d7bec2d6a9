/** What the export-form tests run a file with: its float32 output over feeds, in onnxruntime-node. */
import * as ort from 'onnxruntime-node';
import type { ExportForm } from '../../src/core/config';
import { concat } from './arrays';

export type Feed = { name: string; tensor: ort.Tensor };

/** A form with the least output SQNR against float and the file size range (of the float file's) it must give. */
export interface Row {
  form: ExportForm;
  minSqnr: number;
  size: [number, number];
}

/** Every feed run through the file, the first outputs concatenated. */
export async function runAll(bytes: Uint8Array, feeds: Feed[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const parts: Float32Array[] = [];
  for (const f of feeds) parts.push((await s.run({ [f.name]: f.tensor }))[s.outputNames[0]!]!.data as Float32Array);
  return concat(parts);
}
