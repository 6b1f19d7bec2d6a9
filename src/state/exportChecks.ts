/** The checks before an export is offered: it loads in onnxruntime, and the guard rail's verdict (state/exportSlice.ts). */
import { QuantscopeError, toErrorInfo } from '../core/errors';
import type { SampleSpec } from '../data/samples';
import { buildSamples } from '../data/buildSamples';
import { guardExportInPage, type ExportGuard } from './guard';
import type { Calibrator } from './calibrator';
import type { AppState } from './types';
import type { ExportFile } from '../runtime/modelJob';

/**
 * The guard rail (state/guard.ts): the export's outputs against the float model's; a file with external
 * data too large to run here is judged by its weights instead, checked tensor by tensor as it was
 * written (runtime/exportFile.ts, runtime/guardWeights.ts).
 */
export async function guardExport(calibrator: Calibrator, state: AppState, file: ExportFile): Promise<ExportGuard> {
  const g = await guardExportInPage(calibrator, state, file.blob, file.dataFile);
  // the outputs not compared (both models past the page's memory, or no samples to run): the weights,
  // checked one by one as the export was written, judge it instead
  const w = file.weightGuard?.verdict;
  if (!g.verdict && w)
    return { verdict: { ...w, source: `${w.source}; ${g.note ?? 'the outputs not compared'}` }, note: null };
  return g;
}

/**
 * How long a stalled check waits before it runs once more. The ended worker's wasm heap goes back to the
 * system some seconds after terminate(), not at once: in a simulated stall of the 2.55 GB decoder's q4
 * check (its first worker stopped after reading 200 MB), a retry at once peaked the renderer at 1067-1070
 * MiB, two check heaps alive together; ten seconds later, 800 MiB, as a check that never stalled.
 */
export const STALL_RETRY_DELAY_MS = 10_000;

/**
 * Load the export in onnxruntime (and run it on one generated sample when the inputs allow) before it
 * is offered: the page never offers a file that does not load. Null when it loads; else the reason.
 */
export async function checkLoads(calibrator: Calibrator, state: AppState, file: ExportFile): Promise<string | null> {
  if (!calibrator.probe || !state.model) return null;
  let sample: SampleSpec | null = null;
  try {
    sample =
      buildSamples(
        state.model.summary.inputs,
        null,
        { ...state, dataKind: 'generated', generatedCount: 1 },
        null,
        state.model.fixedInputs,
      )[0] ?? null;
  } catch {
    sample = null; // dynamic dimensions without values: load the file without running it
  }
  const backend = state.backend === 'cpu' ? 'cpu' : 'wasm';
  // a file written with external data loads with it (onnxruntime-web's externalData, by the name the .onnx records)
  const externalData = file.dataFile ? [{ path: file.dataFile.name, data: file.dataFile.blob }] : undefined;
  const probe = () =>
    calibrator.probe!({
      models: [{ key: 'export', bytes: file.blob, sample, ...(externalData ? { externalData } : {}) }],
      backend,
      noFallback: false,
    }).result;
  let answer;
  try {
    // a check whose worker stalled (CHECK_STALLED: ended) runs once more in a fresh worker, once the
    // ended one's memory has gone back
    answer = await probe().catch((e: unknown) => {
      if (toErrorInfo(e).code !== 'CHECK_STALLED') throw e;
      return new Promise((resolve) => setTimeout(resolve, STALL_RETRY_DELAY_MS)).then(probe);
    });
  } catch (e) {
    // the check's worker failed or crashed (WORKER_FAILED): named with the file it was checking
    const { code, message } = toErrorInfo(e);
    const which = file.dataFile
      ? `the ${file.report.form} file with ${file.dataFile.name}`
      : `the ${file.report.form} file`;
    throw new QuantscopeError(code, `the check that ${which} loads in onnxruntime stopped: ${message}`);
  }
  const r = answer.results.export;
  return r && !r.runs ? r.error : null;
}
