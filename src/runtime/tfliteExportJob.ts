/**
 * A .tflite file built in the model worker (onnx/forms/tflite, the engine `quantscope quantize --format
 * tflite` runs), from the model it keeps prepared (modelJob.ts, keptModel): converting PP-OCRv4 det took
 * 0.6 s on the page's thread, one task. The page runs the same function in-thread where there is no worker.
 */
import { toErrorInfo } from '../core/errors';
import type { QuantConfig } from '../core/config';
import { planQuantization, type ModelProto, type TensorRange } from '../onnx';
import { exportTflite, type TfliteOptions, type TfliteReport } from '../onnx/forms/tflite';
import { keptModel, type ModelFilesRequest } from './modelJob';
import type { WorkerReply } from './protocol';

export interface TfliteExportRequest extends ModelFilesRequest<'tfliteExport'> {
  readonly options: TfliteOptions;
  /** int8: the configuration and the calibrated ranges (float32-rounded, as the page gives them). */
  readonly int8?: { readonly config: QuantConfig; readonly ranges: ReadonlyMap<string, TensorRange | null> };
  /** The file's description field. */
  readonly description: string;
}

export interface TfliteFile {
  readonly bytes: Uint8Array;
  readonly report: TfliteReport;
}

export interface TfliteExportedReply {
  readonly type: 'tfliteExported';
  readonly id: number;
  readonly file: TfliteFile;
}

/** The file from a prepared model: the one function the worker and the page's fallback call. */
export function buildTfliteFile(
  prepared: ModelProto,
  options: TfliteOptions,
  int8: TfliteExportRequest['int8'],
  description: string,
): TfliteFile {
  const calib = int8 && { plan: planQuantization(prepared, int8.config), ranges: int8.ranges, config: int8.config };
  return exportTflite(prepared, options, calib, description);
}

export async function runTfliteExportJob(
  req: TfliteExportRequest,
  signal: AbortSignal,
  emit: (m: WorkerReply, transfer?: Transferable[]) => void,
): Promise<void> {
  try {
    const model = await keptModel(req);
    if (signal.aborted) return;
    const file = buildTfliteFile(model, req.options, req.int8, req.description);
    if (signal.aborted) return;
    emit({ type: 'tfliteExported', id: req.id, file }, [file.bytes.buffer as ArrayBuffer]);
  } catch (e) {
    if (!signal.aborted) emit({ type: 'error', id: req.id, error: toErrorInfo(e) });
  }
}
