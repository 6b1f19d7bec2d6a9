/**
 * An export's file: the form the configuration names, encoded as Blob parts with its reports
 * (buildExportFile, exportFileOf), or streamed with its external data file for a model loaded with
 * one (writeExportStreamed). The worker's export job and the store build it from here.
 */
import type { RoundedWeight } from '../core/algorithms/gptq';
import type { QuantConfig } from '../core/config';
import {
  dataFileNameFor,
  blobSpool,
  newStreamStats,
  spillLargeTensors,
  writeModel,
  encodeModelParts,
  exportForm,
  initializerBytes,
  planQuantization,
  supportReport,
  type ExportReport,
  type FormReport,
  type ModelProto,
  type SupportRow,
  type TensorRange,
} from '../onnx';
import type { GuardVerdict } from '../core/guard';
import { DEFAULT_WEIGHT_SQNR_DB } from '../core/guardWeights';
import { toErrorInfo } from '../core/errors';
import { checkWeightsStreamed } from './guardWeights';

/** What an export's file is, built once: the encoded parts and everything reported about it. */
export interface ExportFile {
  readonly blob: Blob;
  readonly size: number;
  /** The encoded parts (in-thread builds only: the worker sends the Blob alone). */
  readonly parts: readonly Uint8Array[] | null;
  readonly report: FormReport;
  readonly qdqReport: ExportReport | null;
  readonly weightBytes: { readonly intBytes: number; readonly totalBytes: number };
  readonly support: readonly SupportRow[];
  /** The external data file the .onnx names (its tensors are there), when written with one. */
  readonly dataFile?: { readonly name: string; readonly blob: Blob };
  /**
   * With a data file (too large to run in the page): the guard's verdict from each quantized weight
   * against its float self (runtime/guardWeights.ts), or why there is none.
   */
  readonly weightGuard?: { readonly verdict: GuardVerdict | null; readonly note: string | null };
}

/** The form the configuration names, built from the prepared model (static QDQ from its ranges). */
export function buildExportFile(
  prepared: ModelProto,
  config: QuantConfig,
  ranges?: ReadonlyMap<string, TensorRange | null>,
  rounded?: ReadonlyMap<string, RoundedWeight>,
): ExportFile {
  const qdq = ranges ? { plan: planQuantization(prepared, config), ranges } : undefined;
  return exportFileOf(exportForm(prepared, config, qdq, rounded));
}

/** An exported model as its file: encoded parts (never concatenated) in a Blob, and its reports. */
export function exportFileOf(r: { model: ModelProto; report: FormReport; qdqReport?: ExportReport }): ExportFile {
  const parts = encodeModelParts(r.model);
  const blob = new Blob(parts as Uint8Array<ArrayBuffer>[], { type: 'application/octet-stream' });
  return {
    blob,
    size: blob.size,
    parts,
    report: r.report,
    qdqReport: r.qdqReport ?? null,
    weightBytes: initializerBytes(r.model.graph!.initializer),
    support: supportReport(r.model),
  };
}

/** Bytes written as Blob parts, one a write: the browser keeps Blob data out of the worker's heap. */
function blobSink(): { write(bytes: Uint8Array): void; blob(): Blob } {
  const parts: Blob[] = [];
  return {
    write: (bytes) => void parts.push(new Blob([bytes as Uint8Array<ArrayBuffer>])),
    blob: () => new Blob(parts, { type: 'application/octet-stream' }),
  };
}

/**
 * A model loaded with external data exports the same way, streamed (the command line's writer,
 * onnx/writeModel.ts): the form's new large tensors are spilled to Blob parts as they are made, then
 * written tensor by tensor as the .onnx plus `<file>_data`, the name the .onnx records, so the
 * worker holds one weight at a time, never the model.
 */
export async function writeExportStreamed(
  prepared: ModelProto,
  config: QuantConfig,
  fileName: string,
  ranges?: ReadonlyMap<string, TensorRange | null>,
): Promise<Omit<ExportFile, 'parts'>> {
  const stats = newStreamStats();
  const spool = blobSpool(`${fileName}.spool`);
  const qdq = ranges ? { plan: planQuantization(prepared, config), ranges } : undefined;
  const r = spillLargeTensors(spool, stats, () => exportForm(prepared, config, qdq));
  const dataFileName = dataFileNameFor(fileName);
  const onnx = blobSink();
  const data = blobSink();
  // written with its data file as it came: the layout the user brought (and past 2 GiB, the only one)
  const w = await writeModel(r.model, onnx, data, { dataFileName, externalAbove: 0 });
  const blob = onnx.blob();
  // too large to run here: each quantized weight (still readable from the spool, one at a time)
  // against the float model's, instead of the outputs on samples
  let weightGuard: ExportFile['weightGuard'];
  if (w.external)
    try {
      const verdict = await checkWeightsStreamed(prepared, r.model, {
        targetDb: DEFAULT_WEIGHT_SQNR_DB,
        source: `the export as written with ${dataFileName}`,
      });
      weightGuard = verdict
        ? { verdict, note: null }
        : {
            verdict: null,
            note: `no DequantizeLinear weights in the export to check one by one against the float model`,
          };
    } catch (e) {
      weightGuard = { verdict: null, note: `weights not checked against the float model: ${toErrorInfo(e).message}` };
    }
  return {
    blob,
    size: w.onnxBytes + w.dataBytes,
    report: r.report,
    qdqReport: r.qdqReport ?? null,
    weightBytes: initializerBytes(r.model.graph!.initializer),
    support: supportReport(r.model),
    ...(w.external ? { dataFile: { name: dataFileName, blob: data.blob() } } : {}),
    ...(weightGuard ? { weightGuard } : {}),
  };
}
