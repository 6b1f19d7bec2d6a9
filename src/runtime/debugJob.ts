/**
 * The per-tensor debugger as the page's worker runs it: the float (prepared) model and the export the
 * page would write, streamed over samples by runtime/debug.ts (the function `quantscope debug`
 * calls), with progress, cancel and the time taken. Only the per-tensor figures come back.
 */
import { toErrorInfo } from '../core/errors';
import type { SampleSpec } from '../data/samples';
import { decodeModel } from '../onnx';
import { debugModels, type DebugResult } from './debug';
import type { OrtModule } from './ort';
import type { Backend, WorkerReply } from './protocol';
import type { SerialQueue } from './serialQueue';
import { modelBytes } from './speedJob';

export interface DebugRequest {
  readonly type: 'debug';
  readonly id: number;
  /** The prepared float model's bytes. */
  readonly float: ArrayBuffer;
  /** The static QDQ export to debug (a Blob of its parts, or bytes). */
  readonly quantized: ArrayBuffer | Blob;
  readonly samples: readonly SampleSpec[];
  readonly backend: Backend;
}

export interface DebuggedReply {
  readonly type: 'debugged';
  readonly id: number;
  readonly result: DebugResult;
}

export async function runDebugJob(
  ort: OrtModule,
  req: DebugRequest,
  queue: SerialQueue,
  signal: AbortSignal,
  emit: (m: WorkerReply) => void,
): Promise<void> {
  try {
    const float = decodeModel(new Uint8Array(req.float), 'the float model');
    const quant = decodeModel(await modelBytes(req.quantized), 'the export');
    // one job holds the queue: its two sessions are the only ones running meanwhile
    const result = await queue.run(() =>
      debugModels(ort, float, quant, req.samples, {
        signal,
        onProgress: (done, total) => emit({ type: 'progress', id: req.id, done, total }),
      }),
    );
    if (!signal.aborted) emit({ type: 'debugged', id: req.id, result });
  } catch (e) {
    if (!signal.aborted) emit({ type: 'error', id: req.id, error: toErrorInfo(e) });
  }
}
