/**
 * The tiny decoder (bigModels.ts DECODER_TINY) as files, for the external-data tests: written with its
 * weights in a data file beside it or in the one file, the token ids it is run on, and opened the way
 * the command line opens it (the graph parsed, the data file read by path).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeModel, decodeModelWithExternalData, externalDataFiles, type ModelProto } from '../../src/onnx';
import { fileSource } from '../../src/runtime/nodeFiles';
import { DECODER_TINY, decoderModel, writeGenerated } from './bigModels';

export const TOKENS = [3, 17, 42, 5, 88, 1];

/** The tiny decoder written to `dir/name`; `external`: its weights in `name_data` beside it. */
export async function writeTinyDecoder(dir: string, name: string, external: boolean): Promise<string> {
  return (await writeGenerated(decoderModel(DECODER_TINY), dir, name, external)).path;
}

/** A model file and the data files it names (read from its folder, by path). */
export function openWithData(path: string, name = 'decoder.onnx'): ModelProto {
  const bytes = new Uint8Array(readFileSync(path));
  const files = externalDataFiles(decodeModel(bytes, name, undefined, 'keep')).map((f) =>
    fileSource(join(dirname(path), f), f),
  );
  return decodeModelWithExternalData(bytes, name, files).model;
}
