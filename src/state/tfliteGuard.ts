/**
 * The guard rail for a .tflite export: the file itself run in TFLite's interpreter (runtime/tflite.ts, a
 * worker of its own), the float model in the worker (runtime/outputsJob.ts), on
 * the samples every export is checked on (state/guard.ts), folded and judged by the same core/guard as
 * every other export. The file takes one input shape (the first sample's): samples of another shape
 * cannot run in it, and the check says which it used.
 */
import { createTally, DEFAULT_GUARD_TARGET, foldTally, judgeTally } from '../core/guard';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import { sampleDims, type SampleSpec } from '../data/samples';
import { onnxOutput, takesShape, tfliteInput, type TfliteReport } from '../onnx/forms/tflite';
import { sessionExternalData } from '../runtime/modelJob';
import { guardedOutput } from '../runtime/guardRun';
import type { TfliteModel } from '../runtime/tflite';
import type { Calibrator } from './calibrator';
import { GUARD_SAMPLES, guardSamples, type ExportGuard } from './guard';
import type { AppState } from './types';

const notCompared = (why: string): ExportGuard => ({
  verdict: null,
  note: `not compared with the float model: ${why}`,
});

/** Whether a sample's inputs are all of the shapes the file was written for. */
function fitsFile(spec: SampleSpec, report: TfliteReport): boolean {
  let dims: Record<string, readonly number[]>;
  try {
    dims = sampleDims(spec);
  } catch {
    return false;
  }
  return report.inputs.every((io) => dims[io.name] !== undefined && takesShape(io, dims[io.name]!));
}

export async function guardTfliteInPage(
  calibrator: Calibrator,
  state: AppState,
  file: { readonly report: TfliteReport; readonly tflite: TfliteModel },
  onProgress?: (done: number, total: number) => void,
): Promise<ExportGuard> {
  const model = state.model;
  if (!model || !calibrator.outputs) return { verdict: null, note: null };
  const picked = guardSamples(state);
  if ('note' in picked) return { verdict: null, note: picked.note };
  if (picked.chain.length)
    return notCompared('the model’s state is chained from sample to sample, which the TFLite file does not carry');
  const output = guardedOutput(
    model.summary.outputs.map((o) => o.name),
    [],
  );
  const io = file.report.outputs.find((o) => o.name === output);
  if (!output || !io) return notCompared(`the TFLite file has no output "${output ?? ''}" to compare`);
  const { report } = file;
  const shapeWords = report.inputs.map((x) => `[${x.onnxShape.join(', ')}]`).join(', ');
  // the split's samples of the file's shape; else the calibration samples of that shape (the first is)
  let chosen = picked.chosen.filter((s) => fitsFile(s, report));
  let source = picked.source;
  if (chosen.length < picked.chosen.length) {
    if (chosen.length) source = `${source}; ${chosen.length} of them of the file's input shape ${shapeWords}`;
    else {
      chosen = picked.all.filter((s) => fitsFile(s, report)).slice(-GUARD_SAMPLES);
      source = `the check's samples are not of the file's input shape ${shapeWords}: ${chosen.length} calibration sample${chosen.length === 1 ? '' : 's'} of that shape instead (calibrated on too, so the check is optimistic)`;
    }
  }
  if (!chosen.length) return notCompared(`no sample is of the file's input shape ${shapeWords}`);
  source = `${source}; the .tflite run in TFLite's interpreter`;
  try {
    // the float model's outputs, and the inputs it was fed (built in the worker, images decoded there)
    const floats = calibrator.outputs({
      model: model.preparedBytes.slice().buffer as ArrayBuffer,
      ...(model.files && model.files.length > 1
        ? { externalData: sessionExternalData(model.prepared, model.files) }
        : {}),
      samples: chosen,
      backend: state.backend === 'cpu' ? 'cpu' : 'wasm',
      output,
      withInputs: true,
    }).result;
    const at = report.outputs.indexOf(io);
    onProgress?.(0, chosen.length);
    const reference = await floats;
    const tally = createTally(output);
    for (let i = 0; i < reference.length; i++) {
      const x = reference[i]!;
      const fed = x.inputs ?? {};
      const inputs = report.inputs.map((t) => {
        const f = fed[t.name];
        if (!f)
          throw new QuantscopeError('RUNTIME', `the TFLite file's input "${t.name}" is not a float input of the model`);
        return tfliteInput(t, f.data, f.dims);
      });
      const y = onnxOutput(io, (await file.tflite.run(inputs)).outputs[at]!.data);
      if (x.data.length !== y.length)
        return notCompared(
          `output "${output}" has ${x.data.length} values from the float model and ${y.length} from the TFLite file`,
        );
      foldTally(tally, x.data, y, x.dims);
      onProgress?.(i + 1, reference.length);
    }
    return { verdict: judgeTally(tally, DEFAULT_GUARD_TARGET, source), note: null };
  } catch (e) {
    return notCompared(toErrorInfo(e).message);
  }
}
