/**
 * Decoding and encoding whole models, with a clear error for every kind of bad file.
 */
import { clearField, clone, fromBinary, toBinary, type Message } from '@bufbuild/protobuf';
import type { GenMessage } from '@bufbuild/protobuf/codegenv2';
import { GraphProtoSchema, ModelProtoSchema, TensorProto_DataLocation, TensorProtoSchema } from 'onnx-buf';
import { QuantscopeError } from '../core/errors';
import {
  attachExternalData,
  graphTensors,
  isExternal,
  lazySlice,
  SOURCE_KEY,
  tensorBytes,
  type ByteSource,
} from './externalData';
import type { GraphProto, ModelProto, TensorProto } from './proto';

/**
 * protobuf messages are limited to 2 GiB (a model over it must keep its weights in external data,
 * which the page cannot open); the page also has to hold the float model, the calibration copy and
 * the exported copy in a 4 GiB wasm32 heap and the tab's memory. 1.5 GiB is the largest we accept.
 */
export const MAX_MODEL_BYTES = 1.5 * 1024 ** 3;

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/**
 * Decode a model. Tensors with raw_data stay views into `bytes` (protobuf-es reads bytes fields as
 * subarrays: a 350 MB model's weights are not copied). A model with external data is refused by name
 * unless `external` is 'keep' (then its tensors stay external: attach their files with
 * attachExternalData, or call decodeModelWithExternalData).
 */
export function decodeModel(
  bytes: Uint8Array,
  fileName: string,
  maxBytes = MAX_MODEL_BYTES,
  external: 'refuse' | 'keep' = 'refuse',
): ModelProto {
  if (bytes.length === 0) throw new QuantscopeError('EMPTY_FILE', `${fileName} is empty (0 bytes)`);
  if (bytes.length > maxBytes) {
    throw new QuantscopeError(
      'MODEL_TOO_LARGE',
      `${fileName} is ${(bytes.length / 1024 ** 3).toFixed(2)} GiB: the page holds models up to ${(maxBytes / 1024 ** 3).toFixed(2)} GiB (protobuf's limit is 2 GiB and the wasm heap 4 GiB)`,
    );
  }
  if (ZIP_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new QuantscopeError(
      'NOT_ONNX',
      `${fileName} is a zip archive, not an ONNX model: extract the .onnx file from it first`,
    );
  }
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/premature EOF|invalid length|out of range|cannot read/i.test(msg) && looksLikeModelPrefix(bytes)) {
      throw new QuantscopeError(
        'TRUNCATED',
        `${fileName} ends early: the file is truncated (${bytes.length} bytes read; ${msg})`,
      );
    }
    throw new QuantscopeError(
      'NOT_ONNX',
      `${fileName} is not an ONNX model: it does not parse as a ModelProto (${msg})`,
    );
  }
  if (!model.graph || model.irVersion <= 0n || model.opsetImport.length === 0) {
    if (looksLikeModelPrefix(bytes) && model.irVersion > 0n && !model.graph) {
      throw new QuantscopeError('TRUNCATED', `${fileName} has no graph: the file is truncated or incomplete`);
    }
    throw new QuantscopeError(
      'NOT_ONNX',
      `${fileName} is not an ONNX model: it has no ir_version, opset import or graph`,
    );
  }
  const externalTensor = external === 'refuse' ? findExternalTensor(model.graph) : undefined;
  if (externalTensor) {
    throw new QuantscopeError(
      'EXTERNAL_DATA',
      `${fileName} keeps tensor "${externalTensor}" in an external data file: open the .onnx together with its data file`,
    );
  }
  return model;
}

/**
 * Decode a model whose tensors may live in external data files (`files`: the data files by the name
 * the .onnx uses, or a list named by their base names). Nothing is read from them: each external
 * tensor becomes a lazy slice of its file (externalData.ts); a missing or short file is named.
 */
export function decodeModelWithExternalData(
  bytes: Uint8Array,
  fileName: string,
  files: ReadonlyMap<string, ByteSource> | readonly ByteSource[],
  maxBytes = MAX_MODEL_BYTES,
): { model: ModelProto; sourceIds: string[] } {
  const model = decodeModel(bytes, fileName, maxBytes, 'keep');
  return { model, sourceIds: attachExternalData(model, fileName, files) };
}

/** A serialized ModelProto begins with field 1 (ir_version, varint): byte 0x08. */
function looksLikeModelPrefix(bytes: Uint8Array): boolean {
  return bytes[0] === 0x08 && bytes.length > 1 && bytes[1]! < 0x80;
}

function findExternalTensor(graph: GraphProto): string | undefined {
  const isExternal = (t: TensorProto): boolean => t.dataLocation === TensorProto_DataLocation.EXTERNAL;
  for (const t of graph.initializer) if (isExternal(t)) return t.name;
  for (const n of graph.node) {
    for (const a of n.attribute) {
      if (a.t && isExternal(a.t)) return a.t.name || n.output[0];
      if (a.g) {
        const inner = findExternalTensor(a.g);
        if (inner) return inner;
      }
    }
  }
  return undefined;
}

export function encodeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model, { writeUnknownFields: true });
}

/**
 * The model encoded for a runtime elsewhere (a worker's onnxruntime-web session, another realm): an
 * external tensor keeps only location, offset and length, the spec's keys, without the private entry
 * naming this realm's open source (externalData.ts SOURCE_KEY), which means nothing there and which
 * onnxruntime refuses ("model format error!" for any key it does not know:
 * onnxruntime/core/framework/tensor_external_data_info.cc, ExternalDataInfo::Create). Nothing is read.
 */
export function encodeModelForRuntime(model: ModelProto): Uint8Array {
  const saved: [TensorProto, TensorProto['externalData']][] = [];
  for (const t of graphTensors(model.graph!)) {
    if (!isExternal(t) || !t.externalData.some((e) => e.key === SOURCE_KEY)) continue;
    saved.push([t, t.externalData]);
    t.externalData = t.externalData.filter((e) => e.key !== SOURCE_KEY);
  }
  try {
    return encodeModel(model);
  } finally {
    for (const [t, entries] of saved) t.externalData = entries;
  }
}

/** Protobuf varint bytes. */
function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

/** Tag + length of a length-delimited field. */
function delimited(field: number, length: number): Uint8Array {
  const tag = varint(field * 8 + 2);
  const len = varint(length);
  const out = new Uint8Array(tag.length + len.length);
  out.set(tag);
  out.set(len, tag.length);
  return out;
}

const total = (parts: readonly ModelPiece[]) => parts.reduce((a, p) => a + pieceLength(p), 0);

/**
 * The bytes of some of a message's fields. onnx.proto is proto2: a field has presence, so fields are
 * cleared on a clone (never re-created, which would mark empty ones as set and write them).
 */
function fieldsBytes<T extends Message>(schema: GenMessage<T>, msg: T, keep: readonly string[]): Uint8Array {
  const c = clone(schema, msg);
  for (const f of schema.fields) if (!keep.includes(f.localName)) clearField(c, f);
  return toBinary(schema, c, { writeUnknownFields: true });
}

/** A place in the encoded model where a lazy tensor's bytes go (read when written). */
export interface LazyPiece {
  readonly tensor: TensorProto;
  readonly length: number;
}

export type ModelPiece = Uint8Array | LazyPiece;

/**
 * A TensorProto as parts: its fields before raw_data (dims … name, fields 1-8), raw_data's header and
 * the raw bytes themselves (not copied; for a lazy external tensor, a LazyPiece read when written),
 * then its later fields. Protobuf writes fields in field-number order, so the parts concatenate to
 * exactly toBinary's bytes.
 */
function tensorParts(t: TensorProto): ModelPiece[] {
  const lazy = isExternal(t) ? lazySlice(t) : undefined;
  if (t.rawData.length === 0 && !lazy) return [toBinary(TensorProtoSchema, t, { writeUnknownFields: true })];
  const headFields = ['dims', 'dataType', 'segment', 'floatData', 'int32Data', 'stringData', 'int64Data', 'name'];
  const tailFields = TensorProtoSchema.fields
    .map((f) => f.localName)
    .filter((n) => !headFields.includes(n) && n !== 'rawData');
  const raw: ModelPiece = lazy ? { tensor: t, length: lazy.length } : t.rawData;
  // the copy leaves the raw bytes behind; a lazy tensor is written inline (its external entries dropped)
  const shell = { ...t, rawData: new Uint8Array(0), ...(lazy ? { externalData: [] } : {}) } as TensorProto;
  // written inline, data_location is left unset (proto2: a field set to its default is still written),
  // so the bytes equal those of a tensor that was never external
  if (lazy) Reflect.deleteProperty(shell, 'dataLocation');
  return [
    fieldsBytes(TensorProtoSchema, shell, headFields),
    delimited(9, pieceLength(raw)),
    raw,
    fieldsBytes(TensorProtoSchema, shell, tailFields),
  ];
}

export function pieceLength(p: ModelPiece): number {
  return p instanceof Uint8Array ? p.length : p.length;
}

/** ModelProto's fields numbered after graph (7): written after it. */
function f7after(localName: string): boolean {
  const f = ModelProtoSchema.fields.find((x) => x.localName === localName)!;
  return f.number > 7;
}

/** The encoded model as parts whose bytes are not copied (lazy tensors read here, one at a time). */
export function encodeModelParts(model: ModelProto): Uint8Array[] {
  return encodeModelPieces(model).map((p) => (p instanceof Uint8Array ? p : tensorBytes(p.tensor)));
}

/**
 * The encoded model as pieces: bytes, and the lazy tensors' places (main-graph initializers; lazy
 * tensors elsewhere, in attributes and subgraphs, must be materialized first).
 */
export function encodeModelPieces(model: ModelProto): ModelPiece[] {
  const g = model.graph;
  if (!g) return [encodeModel(model)];
  const modelShell = { ...model, graph: undefined } as ModelProto;
  const before = fieldsBytes(ModelProtoSchema, modelShell, [
    'irVersion',
    'producerName',
    'producerVersion',
    'domain',
    'modelVersion',
    'docString',
  ]);
  const after = fieldsBytes(
    ModelProtoSchema,
    modelShell,
    ModelProtoSchema.fields.map((f) => f.localName).filter((n) => f7after(n)),
  );
  const graphShell = { ...g, initializer: [] } as GraphProto;
  const graphHead = fieldsBytes(GraphProtoSchema, graphShell, ['node', 'name']);
  const graphTail = fieldsBytes(
    GraphProtoSchema,
    graphShell,
    GraphProtoSchema.fields.map((f) => f.localName).filter((n) => !['node', 'name', 'initializer'].includes(n)),
  );
  const inits: ModelPiece[] = [];
  for (const t of g.initializer) {
    const parts = tensorParts(t);
    inits.push(delimited(5, total(parts)), ...parts);
  }
  const graphLength = graphHead.length + total(inits) + graphTail.length;
  return [before, delimited(7, graphLength), graphHead, ...inits, graphTail, after];
}
