/** Reading models and writing outputs for the command line: nothing half-written is ever left. */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { QuantscopeError } from '../core/errors';
import { attachExternalData, decodeModel, externalDataFiles, type ModelProto } from '../onnx';
import { fileSource } from '../runtime/nodeFiles';
import type { ImagePreset } from '../data/image';
import { imageInputOf } from '../data/modelInput';

/**
 * A model file, and its external data files when it has them (opened from its folder, read tensor
 * by tensor when a form or the writer needs them: never loaded whole). `bytes` is the .onnx alone;
 * `sizeBytes` counts the data files too.
 */
export function readModel(path: string): {
  bytes: Uint8Array;
  model: ModelProto;
  sizeBytes: number;
  dataFiles: string[];
} {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    throw new QuantscopeError('BAD_DATA', `${path}: cannot be read`);
  }
  const name = basename(path);
  const model = decodeModel(bytes, name, undefined, 'keep');
  const dataFiles = externalDataFiles(model);
  if (!dataFiles.length) return { bytes, model, sizeBytes: bytes.length, dataFiles };
  const sources = dataFiles.map((f) => {
    const p = join(dirname(path), f);
    if (!existsSync(p))
      throw new QuantscopeError(
        'EXTERNAL_DATA_MISSING',
        `${path} keeps its weights in "${f}", which is not in ${dirname(path) || '.'}: put it next to the .onnx`,
      );
    return fileSource(p, f);
  });
  attachExternalData(model, name, sources);
  return { bytes, model, sizeBytes: bytes.length + sources.reduce((n, s) => n + s.size, 0), dataFiles };
}

/** The image input and its preprocessing, as the page picks them (PP-OCR presets for PP-OCR models). */
export function imageInput(prepared: ModelProto): { name: string; preset: ImagePreset } | null {
  return imageInputOf(prepared, false);
}

/** Write through a temporary name, then rename: no half-written file is ever left at the destination. */
export function writeAtomically(path: string, parts: readonly Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw new QuantscopeError(
      'BAD_DATA',
      `${path}: cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  try {
    for (const p of parts) writeSync(fd, p);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw new QuantscopeError('BAD_DATA', `${path}: cannot be written (${(e as Error).message})`);
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
