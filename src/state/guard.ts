/**
 * The guard rail as the page runs it: every export is compared with the float model in the worker
 * (runtime/guardRun, the function the command line calls) before it is offered, on a split of the
 * calibration data (said so), in streaming order when the model's state is chained.
 */
import { guardSplit, recurrentPairs, type Chain, type GuardVerdict } from '../core/guard';
import { toErrorInfo } from '../core/errors';
import type { SampleSpec } from '../data/samples';
import { buildSamples } from '../data/buildSamples';
import { sessionExternalData } from '../runtime/modelJob';
import { deviceMemoryGiB, pageMemoryBudget } from '../runtime/pageMemory';
import type { Calibrator } from './calibrator';
import type { AppState } from './types';

/** At most this many samples check an export (each runs both models). */
export const GUARD_SAMPLES = 4;

export interface ExportGuard {
  readonly verdict: GuardVerdict | null;
  /** Why there is no verdict (no data, no worker, the check failed to run). */
  readonly note: string | null;
}

/** The samples an export is checked on, and where they came from in words; or why there are none. */
export type GuardSamples =
  | {
      /** Every calibration sample, in order. */
      readonly all: readonly SampleSpec[];
      readonly chosen: readonly SampleSpec[];
      readonly source: string;
      readonly chain: readonly Chain[];
    }
  | { readonly note: string };

/**
 * Which samples check an export: a split of the calibration data (core/guard's guardSplit, its last
 * GUARD_SAMPLES), or for a model whose state is chained the first ones, streamed in order.
 */
export function guardSamples(state: AppState): GuardSamples {
  const model = state.model!;
  let samples: SampleSpec[];
  try {
    samples = buildSamples(model.summary.inputs, model.imageInput, state, state.presetOverride, model.fixedInputs);
  } catch {
    samples = [];
  }
  if (!samples.length) return { note: 'not compared with the float model: choose calibration data to check it on' };
  const chain = state.chainRecurrent ? recurrentPairs(model.summary.inputs, model.summary.outputs) : [];
  if (chain.length) {
    // a stream is checked from its start, in order
    const chosen = samples.slice(0, 4 * GUARD_SAMPLES);
    return {
      all: samples,
      chosen,
      chain,
      source: `no held-out samples: the first ${chosen.length} calibration samples streamed in order (calibrated on too, so the check is optimistic)`,
    };
  }
  const split = guardSplit(samples.length);
  const chosen = split.indices.slice(-GUARD_SAMPLES).map((i) => samples[i]!);
  return {
    all: samples,
    chosen,
    chain,
    source:
      chosen.length === split.indices.length
        ? split.source
        : `the calibration data's last ${chosen.length} of ${samples.length} samples, no held-out samples given (calibrated on too, so the check is optimistic)`,
  };
}

export async function guardExportInPage(
  calibrator: Calibrator,
  state: AppState,
  file: Blob,
  /** The export's data file, when it was written with one (named as its .onnx records it). */
  dataFile?: { readonly name: string; readonly blob: Blob },
): Promise<ExportGuard> {
  const model = state.model;
  if (!model || !calibrator.guard) return { verdict: null, note: null };
  const picked = guardSamples(state);
  if ('note' in picked) return { verdict: null, note: picked.note };
  const { chosen, source, chain } = picked;
  // Both models in one wasm heap, each loaded from its bytes (twice: the bytes and the runtime's copy):
  // past the page's budget the check is skipped in words rather than risking the tab.
  const floatBytes = model.files && model.files.length > 1 ? model.files.reduce((a, f) => a + f.blob.size, 0) : 0;
  const needed = 2 * (floatBytes + (dataFile ? file.size + dataFile.blob.size : 0));
  const budget = state.memoryBudget ?? pageMemoryBudget(deviceMemoryGiB());
  if (needed > budget)
    return {
      verdict: null,
      note: `not compared with the float model: both models at once need about ${(needed / 1024 ** 3).toFixed(2)} GiB, more than the ${(budget / 1024 ** 3).toFixed(2)} GiB this page can use (the command line checks it)`,
    };
  try {
    const { result } = calibrator.guard({
      float: model.preparedBytes.slice().buffer as ArrayBuffer,
      exported: file,
      // models with external data: each session reads its data files itself
      ...(model.files && model.files.length > 1
        ? { floatExternalData: sessionExternalData(model.prepared, model.files) }
        : {}),
      ...(dataFile ? { exportedExternalData: [{ path: dataFile.name, data: dataFile.blob }] } : {}),
      samples: chosen,
      backend: state.backend === 'cpu' ? 'cpu' : 'wasm',
      chain,
      source,
    });
    return { verdict: await result, note: null };
  } catch (e) {
    return { verdict: null, note: `not compared with the float model: ${toErrorInfo(e).message}` };
  }
}
