/**
 * Equalization, SmoothQuant and bias correction as the page's worker runs them (and the local
 * calibrator in Node): the engine is runtime/modelAlgorithms.ts, the one the command line calls.
 *  - 'rewrite': equalization and SmoothQuant on the prepared model; for static QDQ the rewritten model
 *    is calibrated here too (calibrate(), the command line's and the calibration job's fold), since
 *    the ranges the page already has belong to the model before the rewrite.
 *  - 'bias': the bias corrections, Ŵ read back from the export the page built.
 * The model bytes travel transferred.
 */
import type { QuantConfig } from '../core/config';
import { toErrorInfo } from '../core/errors';
import { needsTorchHistograms } from '../core/presets';
import { sampleSource, type SampleSpec } from '../data/samples';
import { calibrationTensors, decodeModel, encodeModel, planQuantization, withExtraOutputs } from '../onnx';
import { calibrate, type CalibrationMode, type StatsMap } from './calibrate';
import { correctBiasesFromData, rewriteBeforeCalibration, type ModelAlgorithmsReport } from './modelAlgorithms';
import type { OrtModule } from './ort';
import type { Backend, WorkerReply } from './protocol';
import type { SerialQueue } from './serialQueue';

export interface AlgorithmsRequest {
  readonly type: 'algorithms';
  readonly id: number;
  readonly stage: 'rewrite' | 'bias';
  /** The model's bytes (rewrite: the prepared model; bias: the model the export was built from). */
  readonly model: ArrayBuffer;
  readonly config: QuantConfig;
  readonly samples: readonly SampleSpec[];
  readonly backend: Backend;
  /** rewrite, static QDQ: calibrate the rewritten model with this mode. */
  readonly calibrationMode?: CalibrationMode;
  /** bias: the exported file whose weights are read back. */
  readonly exported?: ArrayBuffer;
}

export interface AlgorithmsResult {
  readonly model: ArrayBuffer;
  readonly report: ModelAlgorithmsReport;
  /** rewrite, static QDQ: the rewritten model's statistics. */
  readonly stats?: StatsMap;
  /** bias: tensors renamed by an inserted Add, [new, original] (static QDQ gives them the original's range). */
  readonly renamed?: readonly (readonly [string, string])[];
}

export async function runAlgorithmsJob(
  ort: OrtModule,
  req: AlgorithmsRequest,
  queue: SerialQueue,
  signal: AbortSignal,
  emit: (m: WorkerReply, transfer?: Transferable[]) => void,
): Promise<void> {
  try {
    const model = decodeModel(new Uint8Array(req.model), 'the prepared model');
    const source = sampleSource(req.samples);
    const progress = (done: number, total: number) => emit({ type: 'progress', id: req.id, done, total });
    const result = await queue.run(async (): Promise<AlgorithmsResult> => {
      if (req.stage === 'bias') {
        const exported = decodeModel(new Uint8Array(req.exported!), 'the export');
        const c = await correctBiasesFromData(ort, model, req.config, source, exported, {
          signal,
          onProgress: (p) => progress(p.done, p.total),
        });
        const bytes = encodeModel(c.model);
        return {
          model: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
          report: { biasCorrection: c.layers, biasSkipped: c.skipped },
          renamed: [...c.renamed],
        };
      }
      const r = await rewriteBeforeCalibration(ort, model, req.config, source, {
        signal,
        onProgress: (p) => progress(p.done, p.total),
      });
      let stats: StatsMap | undefined;
      if (req.calibrationMode) {
        const tensors = calibrationTensors(r.model, planQuantization(r.model, req.config));
        const session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(r.model, tensors)), {
          logSeverityLevel: 3,
        } as never);
        try {
          stats = await calibrate(ort, session, source, tensors, {
            mode: req.calibrationMode,
            torchHistograms: needsTorchHistograms(req.config),
            signal,
            onProgress: progress,
          });
        } finally {
          await (session as { release?: () => Promise<void> }).release?.();
        }
      }
      const bytes = encodeModel(r.model);
      return {
        model: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
        report: r.report,
        ...(stats ? { stats } : {}),
      };
    });
    emit({ type: 'algorithmsDone', id: req.id, result }, [result.model]);
  } catch (e) {
    emit({ type: 'error', id: req.id, error: toErrorInfo(e) });
  }
}
