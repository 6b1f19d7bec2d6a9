/**
 * The per-tensor debugger as the page's worker runs it: the float (prepared) model and the export the
 * page would write, streamed over samples by runtime/debug.ts (the function `quantscope debug`
 * calls), with progress, cancel and the time taken. Only the per-tensor figures come back.
 */
import { calibratedRanges } from '../core/calibratedRanges';
import type { QuantConfig } from '../core/config';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import type { SampleSpec } from '../data/samples';
import { decodeModel, exportForm, planQuantization, producerOpTypes, type ModelProto } from '../onnx';
import type { StatsMap } from './calibrate';
import { debugModels, type DebugResult } from './debug';
import type { OrtModule } from './ort';
import { decodeJobModel, webSessionOpener } from './modelSession';
import type { Backend, ExternalDataFile, WorkerReply } from './protocol';
import type { SerialQueue } from './serialQueue';
import { modelBytes } from './speedJob';

export interface DebugRequest {
  readonly type: 'debug';
  readonly id: number;
  /** The prepared float model's bytes. */
  readonly float: ArrayBuffer;
  /**
   * The static QDQ file to debug (a Blob of its parts, or bytes); or, absent, the one built here from
   * the float model, `config` and the calibrated `stats` exactly as Export builds it (the page's
   * thread stays free, and the model is decoded here with all its fields).
   */
  readonly quantized?: ArrayBuffer | Blob;
  readonly config?: QuantConfig;
  readonly stats?: StatsMap;
  readonly samples: readonly SampleSpec[];
  readonly backend: Backend;
  /**
   * The float model's external data files (by the locations it records), when it keeps its weights
   * outside the .onnx: the QDQ file built here keeps the weights it leaves float as the same external
   * references, and both sessions read the files themselves (runtime/modelSession.ts).
   */
  readonly externalData?: readonly ExternalDataFile[];
}

export interface DebuggedReply {
  readonly type: 'debugged';
  readonly id: number;
  readonly result: DebugResult;
}

/** The static QDQ model Export writes for these choices and statistics (core/calibratedRanges, onnx/forms). */
export function staticQdqExport(
  float: ModelProto,
  config: QuantConfig | undefined,
  stats: StatsMap | undefined,
): ModelProto {
  if (!config || !stats)
    throw new QuantscopeError(
      'NO_STATISTICS',
      'the debugger needs the export, or the choices and calibrated statistics',
    );
  const producers = producerOpTypes(float);
  const ranges = calibratedRanges(stats, config, (t) => producers.get(t));
  return exportForm(float, config, { plan: planQuantization(float, config), ranges }).model;
}

export async function runDebugJob(
  ort: OrtModule,
  req: DebugRequest,
  queue: SerialQueue,
  signal: AbortSignal,
  emit: (m: WorkerReply) => void,
): Promise<void> {
  try {
    const float = decodeJobModel(new Uint8Array(req.float), 'the float model', req.externalData);
    const quant = req.quantized
      ? decodeModel(await modelBytes(req.quantized), 'the export')
      : staticQdqExport(float, req.config, req.stats);
    // one job holds the queue: its two sessions are the only ones running meanwhile
    const result = await queue.run(() =>
      debugModels(ort, float, quant, req.samples, {
        signal,
        open: webSessionOpener(ort, req.externalData),
        onProgress: (done, total) => emit({ type: 'progress', id: req.id, done, total }),
      }),
    );
    if (!signal.aborted) emit({ type: 'debugged', id: req.id, result });
  } catch (e) {
    if (!signal.aborted) emit({ type: 'error', id: req.id, error: toErrorInfo(e) });
  }
}
