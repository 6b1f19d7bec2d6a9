/** Reading models and writing outputs for the command line: nothing half-written is ever left. */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { QuantscopeError } from '../core/errors';
import { decodeModel, type ModelProto } from '../onnx';
import type { ImagePreset } from '../data/image';
import { imageInputOf } from '../data/modelInput';

export function readModel(path: string): { bytes: Uint8Array; model: ModelProto } {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    throw new QuantscopeError('BAD_DATA', `${path}: cannot be read`);
  }
  return { bytes, model: decodeModel(bytes, basename(path)) };
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
