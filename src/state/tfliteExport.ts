/**
 * The page's TFLite export: the same engine as `quantscope quantize --format tflite` (onnx/forms/tflite),
 * built in the model worker (runtime/tfliteExportJob.ts); int8 from the calibrated ranges the static QDQ
 * export uses, shapes from the first sample. The file is run once in TFLite's own interpreter
 * (runtime/tflite) before it is offered, then checked there against the float model (state/tfliteGuard.ts).
 */
import type { QuantConfig } from '../core/config';
import { QuantscopeError } from '../core/errors';
import { sampleDims } from '../data/samples';
import { formLabel, type TensorRange } from '../onnx';
import { tfliteInt8Unheld } from '../onnx/forms/tflite';
import { buildTfliteFile, type TfliteExportRequest } from '../runtime/tfliteExportJob';
import { openTflite, type TfliteModel } from '../runtime/tflite';
import type { Calibrator } from './calibrator';
import type { ExportGuard } from './guard';
import { guardTfliteInPage } from './tfliteGuard';
import { buildSamples } from '../data/buildSamples';
import { rangesFromStatsYielding } from './exportRanges';
import type { AppState, ExportResult } from './types';

type Form = Extract<NonNullable<QuantConfig['form']>, { kind: 'tflite' }>;

/** A file TFLite's interpreter cannot load or run is never offered. */
const notRunning = (e: unknown) =>
  new QuantscopeError(
    'RUNTIME',
    `the TFLite file does not run in TFLite's interpreter, so it is not offered: ${e instanceof Error ? e.message : String(e)}`,
  );

/** `model.onnx` → `model.int8.tflite`. */
export function tfliteFileName(fileName: string, form: Form): string {
  const tag = form.precision === 'int8' ? 'int8' : form.precision === 'float16' ? 'fp16' : 'fp32';
  return `${fileName.replace(/\.onnx$/i, '')}.${tag}.tflite`;
}

export async function exportTfliteInPage(
  get: () => AppState,
  calibrator: Calibrator,
  setExporting: (e: NonNullable<AppState['exporting']>) => void,
  form: Form,
): Promise<ExportResult | null> {
  const onProgress = (done: number, total: number) => setExporting({ done, total });
  const t0 = performance.now();
  const { model, calibration, config } = get();
  if (!model) throw new QuantscopeError('NO_STATISTICS', 'load a model first');
  let int8: TfliteExportRequest['int8'];
  let ranges: Map<string, TensorRange | null> | null = null;
  if (form.precision === 'int8') {
    const calibrated = calibration.stats !== null && calibration.statsFor === model.fileName;
    if (!calibrated && !get().recipeRanges)
      throw new QuantscopeError('NO_STATISTICS', `calibrate ${model.fileName} before exporting it as TFLite int8`);
    const producers = new Map(model.prepared.graph!.node.flatMap((n) => n.output.map((o) => [o, n.opType] as const)));
    ranges = calibrated
      ? await rangesFromStatsYielding(calibration.stats!, config, (t) => producers.get(t), onProgress)
      : new Map(get().recipeRanges!);
    ranges = new Map(
      [...ranges].map(([t, r]) => [t, r ? { rmin: Math.fround(r.rmin), rmax: Math.fround(r.rmax) } : null]),
    );
    int8 = { config, ranges };
  }
  // TFLite needs fixed shapes: the first sample's (the data the page calibrates on), read without
  // decoding it where it is an image
  let inputShapes: Record<string, number[]> = {};
  try {
    const first = buildSamples(
      model.summary.inputs,
      model.imageInput,
      get(),
      get().presetOverride,
      model.fixedInputs,
    )[0];
    if (first) inputShapes = Object.fromEntries(Object.entries(sampleDims(first)).map(([k, v]) => [k, [...v]]));
  } catch {
    inputShapes = {}; // static shapes need none; a dynamic one is then refused by name
  }
  const options = {
    precision: form.precision,
    io: form.io,
    fullyConnectedPerChannel: form.fullyConnectedPerChannel,
    inputShapes,
  };
  const description = `Quantscope TFLite export of ${model.fileName}`;
  // built in the model worker from the model it keeps prepared; in this thread where there is none
  const { bytes, report } =
    calibrator.tfliteExport && model.files
      ? await calibrator.tfliteExport({
          files: model.files,
          isSample: model.isSample,
          fixedInputs: model.fixedInputs,
          options,
          ...(int8 ? { int8 } : {}),
          description,
        }).result
      : buildTfliteFile(model.prepared, options, int8, description);
  // Run once in TFLite's interpreter (zeros in): a file it cannot load is never offered. Then the
  // guard rail: the file against the float model on the samples every export is checked on.
  let notes = [`${report.ops.length} op kinds; TFLite Micro arena at least ${report.arenaBytes} bytes`];
  const unheld = form.precision === 'int8' ? tfliteInt8Unheld(config) : [];
  if (unheld.length)
    notes = [
      ...notes,
      `written int8 all the same: ${unheld.join(', ')} (chosen for the ONNX forms; a TFLite int8 file is int8 throughout, by TFLite's int8 specification)`,
    ];
  let guard: ExportGuard = {
    verdict: null,
    note: 'not compared with the float model: TFLite’s interpreter runs in the page only',
  };
  if (typeof document !== 'undefined') {
    let tflite: TfliteModel;
    try {
      tflite = await openTflite(bytes);
    } catch (e) {
      throw notRunning(e);
    }
    try {
      const run = await tflite.run().catch((e: unknown) => {
        throw notRunning(e);
      });
      notes = [...notes, `ran in TFLite's interpreter (tfjs-tflite, WebAssembly) in ${run.ms.toFixed(0)} ms`];
      setExporting({ done: 0, total: 1, checking: 'tflite' });
      guard = await guardTfliteInPage(calibrator, get(), { report, tflite }, (done, total) =>
        setExporting({ done, total, checking: 'tflite' }),
      );
    } finally {
      tflite.close();
    }
  }
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
  const result = {
    guard,
    fileName: tfliteFileName(model.fileName, form),
    blob,
    size: bytes.length,
    floatBytes: model.bytes.length,
    report: null,
    form: { form: formLabel(form), quantizedNodes: [], floatNodes: [], notes, opset: 0 },
    weightBytes: { intBytes: form.precision === 'int8' ? report.weightBytes : 0, totalBytes: report.weightBytes },
    support: [],
    config,
    ranges,
    ms: performance.now() - t0,
    tflite: report,
  } as Omit<ExportResult, 'bytes'>;
  Object.defineProperty(result, 'bytes', { value: bytes, enumerable: false });
  return result as ExportResult;
}
