/** The export result the page offers: its lazy bytes, the guard's verdict, the file name, the float size (state/exportSlice.ts). */
import { QuantscopeError } from '../core/errors';
import type { ExportGuard } from './guard';
import type { ExportResult, LoadedModel } from './types';
import type { ExportFile } from '../runtime/modelJob';

/** The export result, its `bytes` a lazy getter (never spread: that would read it). */
export function exportResult(fields: Omit<ExportResult, 'blob' | 'size' | 'bytes'>, file: ExportFile): ExportResult {
  let bytes: Uint8Array | undefined;
  const result = {
    ...fields,
    blob: file.blob,
    size: file.size,
    ...(file.dataFile ? { dataFile: file.dataFile } : {}),
  } as ExportResult;
  Object.defineProperty(result, 'bytes', {
    enumerable: false,
    get() {
      if (!file.parts)
        throw new QuantscopeError('RUNTIME', 'this export was built in the worker: its bytes are in its Blob');
      if (!bytes) {
        bytes = new Uint8Array(file.size);
        let o = 0;
        for (const p of file.parts) {
          bytes.set(p, o);
          o += p.length;
        }
      }
      return bytes;
    },
  });
  return result;
}

/** The result with the guard's verdict (its lazy `bytes` kept: never spread). */
export function withGuard(result: ExportResult, guard: ExportGuard): ExportResult {
  Object.defineProperty(result, 'guard', { value: guard, enumerable: true });
  return result;
}

/** The float model's size: its .onnx and its external data files. */
export function floatModelBytes(model: LoadedModel): number {
  return model.files && model.files.length > 1 ? model.files.reduce((a, f) => a + f.blob.size, 0) : model.bytes.length;
}

/** `model.onnx` → `model.int8.onnx`. */
export function exportFileName(fileName: string, suffix = 'int8'): string {
  const base = fileName.replace(/\.onnx$/i, '');
  return `${base}.${suffix}.onnx`;
}
