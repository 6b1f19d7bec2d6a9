/**
 * Reading, parsing and preparing a model, and building an export's file: the steps that take seconds
 * on a model of hundreds of megabytes. The worker runs them (runModelLoadJob, runExportJob), so the
 * page's thread stays free; the store runs the same functions in-thread where there is no worker (Node
 * tests). The page sends the files as Blobs (by reference, never read on its thread) and receives the
 * prepared model with its buffers transferred (not copied), and an export as a Blob of its parts
 * (built in exportFile.ts).
 */
import { DEFAULT_CONFIG, type QuantConfig } from '../core/config';
import { isQuantscopeError, QuantscopeError, toErrorInfo } from '../core/errors';
import { imageInputOf, ocrKind } from '../data/modelInput';
import {
  blobSource,
  decodeModel,
  decodeModelWithExternalData,
  encodeModelForRuntime,
  externalDataFiles,
  fixableInputs,
  planQuantization,
  prepareModel,
  summarizeModel,
  type ModelProto,
  type ModelSummary,
  type QuantPlan,
  type TensorRange,
} from '../onnx';
import { buildExportFile, writeExportStreamed, type ExportFile } from './exportFile';
import type { ExternalDataFile, WorkerReply } from './protocol';

export { buildExportFile, exportFileOf, type ExportFile } from './exportFile';

/** One of the files a model is loaded from: the `.onnx` or an external data file, by its own name. */
export interface ModelFile {
  readonly name: string;
  readonly blob: Blob;
}

/** A model read, parsed and prepared: what the page keeps of it. */
export interface PreparedModelInfo {
  readonly fileName: string;
  readonly bytes: Uint8Array;
  readonly prepared: ModelProto;
  /**
   * The prepared model encoded once at load, so no run re-encodes it on the page's thread. External
   * tensors keep the spec's location/offset/length (a session gets the data files by those names).
   */
  readonly preparedBytes: Uint8Array;
  readonly plan: QuantPlan;
  readonly summary: ModelSummary;
  readonly imageInput: ReturnType<typeof imageInputOf>;
  readonly isSample: boolean;
  readonly ocr: 'det' | 'rec' | null;
  readonly fixedInputs: Readonly<Record<string, number>>;
  readonly fixableInputs: readonly string[];
}

/** Parse and prepare a model from its bytes (the one path for the page, its worker and Node). */
export function prepareModelBytes(
  fileName: string,
  bytes: Uint8Array,
  isSample: boolean,
  fixedInputs: Readonly<Record<string, number>> = {},
  onStage?: (stage: LoadStage) => void,
  dataFiles: readonly ModelFile[] = [],
): PreparedModelInfo {
  onStage?.('parsing');
  // External data (onnx/externalData.ts): each external tensor becomes a lazy slice of its file, read
  // only when a form needs it; a data file missing or too short is named. Without data files, a model
  // that keeps tensors outside is refused by name.
  const original = dataFiles.length
    ? decodeModelWithExternalData(
        bytes,
        fileName,
        dataFiles.map((f) => blobSource(f.blob, f.name)),
      ).model
    : decodeModel(bytes, fileName);
  onStage?.('preparing');
  let prep;
  try {
    prep = prepareModel(original, { fixedInputs });
  } catch (e) {
    if (isQuantscopeError(e)) throw new QuantscopeError(e.code, `${fileName}: ${e.message}`);
    throw e;
  }
  const plan = planQuantization(prep.model, DEFAULT_CONFIG);
  const summary = summarizeModel(original, prep.model, plan, fileName, bytes.length, prep.log);
  return {
    fileName,
    bytes,
    prepared: prep.model,
    preparedBytes: encodeModelForRuntime(prep.model),
    plan,
    summary,
    imageInput: imageInputOf(prep.model, isSample),
    isSample,
    ocr: ocrKind(prep.model),
    fixedInputs,
    fixableInputs: fixableInputs(original),
  };
}

/**
 * What an onnxruntime-web session needs to find a model's external data: each data file the model
 * names, by the location it records (its `externalData` session option, matched by path), given as the
 * user's Blob, which the runtime reads itself (the page never holds its bytes). Matched as the loader
 * matches them: the location, else its base name.
 */
export function sessionExternalData(model: ModelProto, files: readonly ModelFile[]): ExternalDataFile[] {
  const base = (p: string) => p.split(/[/\\]/).pop()!;
  return externalDataFiles(model).map((location) => {
    const f = files.find((x) => x.name === location) ?? files.find((x) => base(x.name) === base(location));
    if (!f)
      throw new QuantscopeError(
        'EXTERNAL_DATA_MISSING',
        `the model keeps tensors in "${location}", which is not among its files: load it together with the .onnx`,
      );
    return { path: location, data: f.blob };
  });
}

/** The model among files given together: one file is the model whatever its name; among several, the .onnx. */
export function modelFileOf(files: readonly ModelFile[]): ModelFile {
  if (files.length === 1) return files[0]!;
  const onnx = files.filter((f) => /\.onnx$/i.test(f.name));
  const names = files.map((f) => f.name).join(', ');
  if (onnx.length === 0) throw new QuantscopeError('NOT_ONNX', `none of the files given (${names}) is an .onnx model`);
  if (onnx.length > 1)
    throw new QuantscopeError(
      'NOT_ONNX',
      `several .onnx models were given together (${onnx.map((f) => f.name).join(', ')}): give one, with its external data files`,
    );
  return onnx[0]!;
}

export type LoadStage = 'reading' | 'parsing' | 'preparing';
export const LOAD_STAGES: readonly LoadStage[] = ['reading', 'parsing', 'preparing'];

/** Read the model's file and prepare it. */
export async function prepareModelFiles(
  files: readonly ModelFile[],
  isSample: boolean,
  fixedInputs: Readonly<Record<string, number>>,
  onStage?: (stage: LoadStage) => void,
): Promise<PreparedModelInfo> {
  const file = modelFileOf(files);
  onStage?.('reading');
  const bytes = new Uint8Array(await file.blob.arrayBuffer());
  const dataFiles = files.filter((f) => f !== file);
  return prepareModelBytes(file.name, bytes, isSample, fixedInputs, onStage, dataFiles);
}

/** Every ArrayBuffer a model's tensors view (to transfer them with it instead of copying). */
export function modelBuffers(info: PreparedModelInfo): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  const add = (a: Uint8Array) => {
    if (a.buffer instanceof ArrayBuffer && a.byteLength > 0) seen.add(a.buffer);
  };
  add(info.bytes);
  add(info.preparedBytes);
  const walk = (g: ModelProto['graph']) => {
    if (!g) return;
    for (const t of g.initializer) add(t.rawData);
    for (const n of g.node)
      for (const a of n.attribute) {
        if (a.t) add(a.t.rawData);
        if (a.g) walk(a.g);
        for (const sub of a.graphs) walk(sub);
      }
  };
  walk(info.prepared.graph);
  return [...seen];
}

/** A model worker request about a model: its files and preparation, as the page loaded them. */
export interface ModelFilesRequest<T extends 'load' | 'export' | 'tfliteExport'> {
  readonly type: T;
  readonly id: number;
  readonly files: readonly ModelFile[];
  readonly isSample: boolean;
  readonly fixedInputs: Readonly<Record<string, number>>;
}

export type LoadRequest = ModelFilesRequest<'load'>;

/** The model's files and preparation, as loaded (the worker prepares them again, or keeps them). */
export interface ExportRequest extends ModelFilesRequest<'export'> {
  readonly config: QuantConfig;
  /** Static QDQ: the calibrated ranges. */
  readonly ranges?: ReadonlyMap<string, TensorRange | null>;
  /** The export's file name: its external data file, if any, is named after it. */
  readonly fileName: string;
}

export interface LoadedReply {
  readonly type: 'loaded';
  readonly id: number;
  readonly model: PreparedModelInfo;
  readonly ms: number;
}

export interface ExportedReply {
  readonly type: 'exported';
  readonly id: number;
  readonly file: Omit<ExportFile, 'parts'>;
  readonly ms: number;
}

type Emit = (m: WorkerReply, transfer?: Transferable[]) => void;

/**
 * The worker's last prepared model, kept for the next export of the same files and preparation (a
 * model's exports follow one another: re-parsing it for each would cost seconds on a large model).
 */
let kept: { key: string; files: readonly ModelFile[]; model: ModelProto } | null = null;

function keyOf(files: readonly ModelFile[], fixedInputs: Readonly<Record<string, number>>): string {
  return JSON.stringify([files.map((f) => [f.name, f.blob.size]), fixedInputs]);
}

/** Files posted twice arrive as new Blob objects: the same when each has the same name and size. */
function sameFiles(a: readonly ModelFile[], b: readonly ModelFile[]): boolean {
  return keyOf(a, {}) === keyOf(b, {});
}

export async function runModelLoadJob(req: LoadRequest, signal: AbortSignal, emit: Emit): Promise<void> {
  const t0 = performance.now();
  try {
    const model = await prepareModelFiles(req.files, req.isSample, req.fixedInputs, (stage) => {
      if (!signal.aborted)
        emit({ type: 'progress', id: req.id, done: LOAD_STAGES.indexOf(stage), total: LOAD_STAGES.length, stage });
    });
    if (signal.aborted) return;
    // its buffers go to the page (transferred): the worker keeps nothing of this model
    if (kept && !sameFiles(kept.files, req.files)) kept = null;
    emit({ type: 'loaded', id: req.id, model, ms: performance.now() - t0 }, modelBuffers(model));
  } catch (e) {
    if (!signal.aborted) emit({ type: 'error', id: req.id, error: toErrorInfo(e) });
  }
}

/** The prepared model of a request's files: the one kept from the last export, or prepared again (and kept). */
export async function keptModel(req: ModelFilesRequest<'export' | 'tfliteExport'>): Promise<ModelProto> {
  const key = keyOf(req.files, req.fixedInputs);
  if (kept?.key !== key) {
    kept = null; // one model at a time
    const info = await prepareModelFiles(req.files, req.isSample, req.fixedInputs);
    kept = { key, files: req.files, model: info.prepared };
  }
  return kept.model;
}

export async function runExportJob(req: ExportRequest, signal: AbortSignal, emit: Emit): Promise<void> {
  const t0 = performance.now();
  try {
    const model = await keptModel(req);
    if (signal.aborted) return;
    const file =
      req.files.length > 1
        ? await writeExportStreamed(model, req.config, req.fileName, req.ranges)
        : (({ parts: _parts, ...f }) => f)(buildExportFile(model, req.config, req.ranges));
    if (signal.aborted) return;
    emit({ type: 'exported', id: req.id, file, ms: performance.now() - t0 });
  } catch (e) {
    if (!signal.aborted) emit({ type: 'error', id: req.id, error: toErrorInfo(e) });
  }
}
