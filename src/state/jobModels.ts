/**
 * What the worker's jobs (compare, debug, sensitivity, Tune, the algorithms) need of a model loaded
 * with external data files: the files for onnxruntime-web's `externalData` (one helper for every job:
 * runtime/modelJob.ts sessionExternalData, as calibration and the guard use it), and a check, before a
 * job starts, that the models it holds at once fit what this page can use (runtime/pageMemory.ts),
 * refused in words with the numbers rather than risking the tab.
 */
import { QuantscopeError } from '../core/errors';
import { sessionExternalData } from '../runtime/modelJob';
import { deviceMemoryGiB, pageMemoryBudget } from '../runtime/pageMemory';
import type { ExternalDataFile } from '../runtime/protocol';
import type { AppState, LoadedModel } from './types';

/** The float model's data files by the locations it records, or undefined for a model in one file. */
export function floatExternalData(model: LoadedModel): ExternalDataFile[] | undefined {
  return model.files && model.files.length > 1 ? sessionExternalData(model.prepared, model.files) : undefined;
}

/** The export's data file as a session gets it (by the name its .onnx records), if it has one. */
export function exportedExternalData(exported: {
  readonly dataFile?: { readonly name: string; readonly blob: Blob };
}): ExternalDataFile[] | undefined {
  return exported.dataFile ? [{ path: exported.dataFile.name, data: exported.dataFile.blob }] : undefined;
}

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(2)} GiB`;

/**
 * Refuse a job on a model with external data (MODEL_TOO_LARGE) when the models it opens at once do not
 * fit the page: each model's weights count twice (the bytes onnxruntime-web reads from the Blob, and its
 * copy in the wasm heap), as the guard counts them (state/guard.ts). `models`: each model's weight bytes
 * in words. A model in one file has passed the load's own check already and is not re-checked here.
 */
export function checkJobFits(
  state: AppState,
  model: LoadedModel,
  job: string,
  models: readonly { readonly what: string; readonly bytes: number }[],
): void {
  if (!floatExternalData(model)) return;
  const needed = 2 * models.reduce((a, m) => a + m.bytes, 0);
  const budget = state.memoryBudget ?? pageMemoryBudget(deviceMemoryGiB());
  if (needed <= budget) return;
  throw new QuantscopeError(
    'MODEL_TOO_LARGE',
    `${model.fileName}: ${job} needs about ${gib(needed)} (${models.map((m) => `${m.what} ${gib(m.bytes)}`).join(' and ')}, each twice: the bytes read and onnxruntime's copy), more than the ${gib(budget)} this page can use (WebAssembly's 4 GiB, or the device's memory): the command line runs it without that limit`,
  );
}

/**
 * What a switchboard job (sensitivity, Tune: runtime/tune/prepare.ts) holds at once: the float model,
 * and its weights dequantized as float32 for each of the two weight variants (the chosen weights and
 * int8 per channel), frozen into the switchboard's model (onnx/switchboardFrozenWeights.ts).
 */
export function switchboardModels(floatBytes: number): { what: string; bytes: number }[] {
  return [
    { what: 'the float model', bytes: floatBytes },
    { what: "the switchboard's two dequantized weight variants", bytes: 2 * floatBytes },
  ];
}

/**
 * Equalization, SmoothQuant, bias correction, GPTQ and AdaRound rewrite weights in the worker and send
 * the rewritten model back for the export, whose weights this page would then have to hold (it keeps
 * a model with external data as references into the user's files, never its bytes): not done for such
 * a model yet, so refused before anything starts, in words (EXTERNAL_DATA), rather than failing halfway.
 */
export function refuseRewriteOfExternalData(model: LoadedModel, what: string): void {
  if (!floatExternalData(model)) return;
  throw new QuantscopeError(
    'EXTERNAL_DATA',
    `${model.fileName} keeps its weights in external data files: ${what} cannot run on it in the page yet (the rewritten weights would have to come back to this page, which holds only references into your files). Turn ${what} off to export it; compare, the debugger, sensitivity and Tune run on it.`,
  );
}
