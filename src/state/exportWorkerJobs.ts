/** The worker jobs an export runs (state/exportSlice.ts): the plain file, the rewrite, GPTQ/AdaRound, bias correction. */
import type { QuantConfig } from '../core/config';
import { QuantscopeError } from '../core/errors';
import { decodeModel, encodeModel, type ModelProto, type TensorRange } from '../onnx';
import type { StatsMap } from '../runtime/calibrate';
import type { RoundingSummary } from '../runtime/roundJob';
import { roundingTargets } from '../runtime/roundingTargets';
import { wantsSmoothQuant } from '../core/algorithms/choices';
import { biasCorrectionTargets, wantsRewrite, type ModelAlgorithmsReport } from '../runtime/modelAlgorithms';
import type { SampleSpec } from '../data/samples';
import { buildSamples } from '../data/buildSamples';
import type { Calibrator } from './calibrator';
import type { AppState, LoadedModel } from './types';
import type { ExportFile } from '../runtime/modelJob';
import { refuseRewriteOfExternalData } from './jobModels';

/**
 * A plain export (no rewrite, rounding or bias correction: nothing the page holds that the worker does
 * not) of a model loaded from files is built in the model worker: the page receives a Blob of the
 * parts and never encodes on its thread. Null when the export is not plain, or there is no worker.
 */
export async function exportInWorker(
  calibrator: Calibrator,
  model: LoadedModel,
  config: QuantConfig,
  working: WorkingModel,
  fileName: string,
  ranges?: ReadonlyMap<string, TensorRange | null>,
): Promise<ExportFile | null> {
  if (!calibrator.exportFile || !model.files || working.prepared !== model.prepared) return null;
  if (biasCorrectionTargets(working.prepared, config).length > 0) return null;
  const { result } = calibrator.exportFile({
    files: model.files,
    isSample: model.isSample,
    fixedInputs: model.fixedInputs,
    config,
    fileName,
    ...(ranges ? { ranges } : {}),
  });
  return { ...(await result), parts: null };
}

/**
 * GPTQ/AdaRound before a weight-only export, when the configuration asks for them (runtime/roundJob.ts
 * in the worker): the layers' inputs from the page's samples (calibration data, as the CLI's --data).
 */
export async function roundInWorker(
  calibrator: Calibrator,
  state: AppState,
  config: QuantConfig,
  onProgress: (done: number, total: number) => void,
  working: WorkingModel,
): Promise<RoundingSummary | null> {
  const model = state.model!;
  if (roundingTargets(working.prepared, config).length === 0) return null;
  refuseRewriteOfExternalData(model, 'GPTQ and AdaRound');
  if (!calibrator.round)
    throw new QuantscopeError('RUNTIME', 'GPTQ and AdaRound need the worker, which is not running');
  let samples: SampleSpec[];
  try {
    samples = buildSamples(model.summary.inputs, model.imageInput, state, state.presetOverride, model.fixedInputs);
  } catch (e) {
    throw new QuantscopeError(
      'NO_STATISTICS',
      `GPTQ and AdaRound need data (the layers' inputs): ${(e as Error).message}`,
    );
  }
  if (samples.length === 0)
    throw new QuantscopeError('NO_STATISTICS', 'GPTQ and AdaRound need data: bring calibration samples first');
  const backend = state.backend === 'cpu' ? 'cpu' : 'wasm';
  const { result } = calibrator.round(
    { model: working.bytes.slice().buffer as ArrayBuffer, config, samples, backend },
    { onProgress },
  );
  return result;
}

/** The prepared model an export is built from: the page's, or its rewrite (equalization, SmoothQuant, bias correction). */
export interface WorkingModel {
  readonly prepared: ModelProto;
  readonly bytes: Uint8Array;
  readonly report: ModelAlgorithmsReport;
  /** Static QDQ after a rewrite: the rewritten model's statistics. */
  readonly stats?: StatsMap;
  /** After bias correction: tensors renamed by an inserted Add (new → original). */
  readonly renamed?: ReadonlyMap<string, string>;
}

/** The page's samples for a job that needs data, or a coded error naming what is missing. */
function samplesForJob(state: AppState, what: string): SampleSpec[] {
  const model = state.model!;
  let samples: SampleSpec[];
  try {
    samples = buildSamples(model.summary.inputs, model.imageInput, state, state.presetOverride, model.fixedInputs);
  } catch (e) {
    throw new QuantscopeError('NO_STATISTICS', `${what} needs data: ${(e as Error).message}`);
  }
  if (samples.length === 0)
    throw new QuantscopeError('NO_STATISTICS', `${what} needs data: bring calibration samples first`);
  return samples;
}

/**
 * Equalization and SmoothQuant before calibration (runtime/algorithmsJob.ts 'rewrite', in the worker):
 * the model the export is built from; static QDQ gets the rewritten model's statistics with it.
 */
export async function rewriteInWorker(
  calibrator: Calibrator,
  state: AppState,
  config: QuantConfig,
  onProgress: (done: number, total: number) => void,
): Promise<WorkingModel> {
  const model = state.model!;
  const plain: WorkingModel = { prepared: model.prepared, bytes: model.preparedBytes, report: {} };
  if (!wantsRewrite(config)) return plain;
  refuseRewriteOfExternalData(model, 'equalization and SmoothQuant');
  if (!calibrator.algorithms)
    throw new QuantscopeError('RUNTIME', 'equalization and SmoothQuant need the worker, which is not running');
  const qdq = (config.form ?? { kind: 'qdq' }).kind === 'qdq';
  const samples = wantsSmoothQuant(config) || qdq ? samplesForJob(state, 'SmoothQuant (and calibration)') : [];
  const { result } = calibrator.algorithms(
    {
      stage: 'rewrite',
      model: model.preparedBytes.slice().buffer as ArrayBuffer,
      config,
      samples,
      backend: state.backend === 'cpu' ? 'cpu' : 'wasm',
      ...(qdq ? { calibrationMode: state.calibrationMode } : {}),
    },
    { onProgress },
  );
  const r = await result;
  const bytes = new Uint8Array(r.model);
  return {
    prepared: decodeModel(bytes, 'the rewritten model'),
    bytes,
    report: r.report,
    ...(r.stats ? { stats: r.stats } : {}),
  };
}

/** Bias correction (runtime/algorithmsJob.ts 'bias', in the worker): the corrected model, or the same one when none is asked. */
export async function correctBiasesInWorker(
  calibrator: Calibrator,
  state: AppState,
  config: QuantConfig,
  working: WorkingModel,
  exported: ModelProto,
  onProgress: (done: number, total: number) => void,
): Promise<WorkingModel | null> {
  if (biasCorrectionTargets(working.prepared, config).length === 0) return null;
  refuseRewriteOfExternalData(state.model!, 'bias correction');
  if (!calibrator.algorithms)
    throw new QuantscopeError('RUNTIME', 'bias correction needs the worker, which is not running');
  const e = encodeModel(exported);
  const { result } = calibrator.algorithms(
    {
      stage: 'bias',
      model: working.bytes.slice().buffer as ArrayBuffer,
      exported: e.buffer.slice(e.byteOffset, e.byteOffset + e.byteLength) as ArrayBuffer,
      config,
      samples: samplesForJob(state, 'bias correction'),
      backend: state.backend === 'cpu' ? 'cpu' : 'wasm',
    },
    { onProgress },
  );
  const r = await result;
  const bytes = new Uint8Array(r.model);
  return {
    prepared: decodeModel(bytes, 'the corrected model'),
    bytes,
    report: { ...working.report, ...r.report },
    renamed: new Map(r.renamed ?? []),
    ...(working.stats ? { stats: working.stats } : {}),
  };
}
