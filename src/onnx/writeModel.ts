/**
 * Writing a model tensor by tensor, in one file or as the .onnx plus one external data file
 * (onnx/docs/ExternalData.md; the layout onnx.save(..., save_as_external_data=True,
 * all_tensors_to_one_file=True) writes and onnxruntime and transformers.js load). Lazy tensors
 * (externalData.ts) are read one at a time as they are written, so writing a 2.5 GB model holds one
 * tensor, never the model.
 *
 * A protobuf message cannot exceed 2 GiB, so a model whose tensors pass EXTERNAL_ABOVE is written
 * with external data; `externalAbove` lowers the threshold (a test, or a user who wants the layout).
 */
import { clearField, clone, create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, TensorProto_DataLocation, TensorProtoSchema } from 'onnx-buf';
import { QuantscopeError } from '../core/errors';
import { encodeModel, encodeModelPieces } from './codec';
import { externalRef, graphTensors, isExternal, lazySlice, readTensorBytes, storedByteLength } from './externalData';
import { cloneSharingInitializers, type ModelProto, type TensorProto } from './proto';

/** Where bytes go: a file, a stream, Blob parts. */
export interface ByteSink {
  write(bytes: Uint8Array): void | Promise<void>;
}

/** 2 GiB less room for the graph: above this a single-file model would pass protobuf's limit. */
export const EXTERNAL_ABOVE = 2 * 1024 ** 3 - 64 * 1024 ** 2;

/** Tensors smaller than this stay inside the .onnx (onnx's convert_model_to_external_data size_threshold). */
export const MIN_EXTERNAL_TENSOR_BYTES = 1024;

/** Offsets in the data file are multiples of this (page-aligned: a runtime may map the file). */
export const EXTERNAL_ALIGNMENT = 4096;

export interface WriteModelOptions {
  /** The data file's name as the .onnx names it (e.g. "model.onnx_data" next to "model.onnx"). */
  readonly dataFileName: string;
  /** Write with external data when the tensors' bytes pass this (default EXTERNAL_ABOVE). */
  readonly externalAbove?: number;
  readonly minExternalBytes?: number;
  /** Called after each tensor is written (progress; cancellation by throwing). */
  readonly onTensor?: (written: number, total: number) => void;
}

export interface WriteModelResult {
  readonly external: boolean;
  readonly onnxBytes: number;
  readonly dataBytes: number;
  readonly tensors: number;
}

/** The bytes all tensors of a model take (in raw_data or in data files). */
export function modelTensorBytes(model: ModelProto): number {
  let n = 0;
  for (const t of graphTensors(model.graph!)) n += storedByteLength(t);
  return n;
}

/** The data file name the .onnx written at `onnxName` uses: "<name>.onnx_data" (transformers.js's layout). */
export function dataFileNameFor(onnxName: string): string {
  return `${onnxName.split(/[/\\]/).pop()!}_data`;
}

/**
 * Write `model` to `onnx` (and, when it goes external, its tensors to `data`), one tensor at a time.
 * Lazy tensors outside the main graph's initializers (Constant attributes, subgraphs) are small:
 * they are read into the model first.
 */
export async function writeModel(
  model: ModelProto,
  onnx: ByteSink,
  data: ByteSink | undefined,
  o: WriteModelOptions,
): Promise<WriteModelResult> {
  const g = model.graph!;
  const mainInits = new Set(g.initializer);
  for (const t of graphTensors(g)) {
    if (mainInits.has(t) || !isExternal(t)) continue;
    t.rawData = (await readTensorBytes(t)) as Uint8Array<ArrayBuffer>;
    t.externalData = [];
    clearField(t, TensorProtoSchema.field.dataLocation); // unset, not DEFAULT: proto2 writes a default that is set
  }
  const total = modelTensorBytes(model);
  const external = total > (o.externalAbove ?? EXTERNAL_ABOVE);
  const count = g.initializer.length;
  if (!external) {
    let onnxBytes = 0;
    let done = 0;
    for (const p of encodeModelPieces(model)) {
      const bytes = p instanceof Uint8Array ? p : await readTensorBytes(p.tensor);
      await onnx.write(bytes);
      onnxBytes += bytes.length;
      if (!(p instanceof Uint8Array)) o.onTensor?.(++done, count);
    }
    return { external, onnxBytes, dataBytes: 0, tensors: count };
  }
  if (!data)
    throw new QuantscopeError(
      'MODEL_TOO_LARGE',
      `the output's tensors take ${(total / 1024 ** 3).toFixed(2)} GiB: it must be written with an external data file (${o.dataFileName})`,
    );
  const minBytes = o.minExternalBytes ?? MIN_EXTERNAL_TENSOR_BYTES;
  const shell = cloneSharingInitializers(model);
  let offset = 0;
  let done = 0;
  const replaced: TensorProto[] = [];
  for (const t of g.initializer) {
    const size = storedByteLength(t);
    if (size < minBytes) {
      replaced.push(isExternal(t) ? inline(t, await readTensorBytes(t)) : t);
      o.onTensor?.(++done, count);
      continue;
    }
    const pad = (EXTERNAL_ALIGNMENT - (offset % EXTERNAL_ALIGNMENT)) % EXTERNAL_ALIGNMENT;
    if (pad) await data.write(new Uint8Array(pad));
    offset += pad;
    const bytes = await readTensorBytes(t);
    await data.write(bytes);
    replaced.push(externalShell(t, o.dataFileName, offset, bytes.length));
    offset += bytes.length;
    o.onTensor?.(++done, count);
  }
  shell.graph!.initializer = replaced;
  const header = encodeModel(shell);
  await onnx.write(header);
  return { external, onnxBytes: header.length, dataBytes: offset, tensors: count };
}

/**
 * The model with its lazy tensors as plain external references to the files they came from (the
 * private source entry dropped): a header a runtime can load from the data files' folder, written
 * without copying a weight.
 */
export function referencingHeader(model: ModelProto): ModelProto {
  const shell = cloneSharingInitializers(model);
  shell.graph!.initializer = shell.graph!.initializer.map((t) => {
    const s = isExternal(t) ? lazySlice(t) : undefined;
    if (!s) return t;
    return externalShell(t, externalRef(t).location, s.offset, s.length);
  });
  return shell;
}

/** The tensor's fields without its bytes (dims, type, name, doc), as a new message. */
function bare(t: TensorProto): TensorProto {
  const raw = t.rawData;
  const ext = t.externalData;
  t.rawData = new Uint8Array(0);
  t.externalData = [];
  try {
    return clone(TensorProtoSchema, t);
  } finally {
    t.rawData = raw;
    t.externalData = ext;
  }
}

function inline(t: TensorProto, bytes: Uint8Array): TensorProto {
  const c = bare(t);
  clearField(c, TensorProtoSchema.field.dataLocation); // unset, not DEFAULT: proto2 writes a default that is set
  c.rawData = bytes as Uint8Array<ArrayBuffer>;
  return c;
}

function externalShell(t: TensorProto, location: string, offset: number, length: number): TensorProto {
  const c = bare(t);
  c.dataLocation = TensorProto_DataLocation.EXTERNAL;
  c.externalData = [
    ['location', location],
    ['offset', String(offset)],
    ['length', String(length)],
  ].map(([key, value]) => create(StringStringEntryProtoSchema, { key, value }));
  return c;
}
