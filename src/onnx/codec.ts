/**
 * Decoding and encoding whole models, with a clear error for every kind of bad file.
 */
import { clearField, clone, fromBinary, toBinary, type Message } from '@bufbuild/protobuf';
import type { GenMessage } from '@bufbuild/protobuf/codegenv2';
import { GraphProtoSchema, ModelProtoSchema, TensorProto_DataLocation, TensorProtoSchema } from 'onnx-buf';
import { QuantscopeError } from '../core/errors';
import type { GraphProto, ModelProto, TensorProto } from './proto';

/**
 * protobuf messages are limited to 2 GiB (a model over it must keep its weights in external data,
 * which the page cannot open); the page also has to hold the float model, the calibration copy and
 * the exported copy in a 4 GiB wasm32 heap and the tab's memory. 1.5 GiB is the largest we accept.
 */
export const MAX_MODEL_BYTES = 1.5 * 1024 ** 3;

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

export function decodeModel(bytes: Uint8Array, fileName: string, maxBytes = MAX_MODEL_BYTES): ModelProto {
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
  const external = findExternalTensor(model.graph);
  if (external) {
    throw new QuantscopeError(
      'EXTERNAL_DATA',
      `${fileName} keeps tensor "${external}" in an external data file, which the page cannot read: save the model with its weights inside (onnx.save(model, path, save_as_external_data=False))`,
    );
  }
  return model;
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

const total = (parts: readonly Uint8Array[]) => parts.reduce((a, p) => a + p.length, 0);

/**
 * The bytes of some of a message's fields. onnx.proto is proto2: a field has presence, so fields are
 * cleared on a clone (never re-created, which would mark empty ones as set and write them).
 */
function fieldsBytes<T extends Message>(schema: GenMessage<T>, msg: T, keep: readonly string[]): Uint8Array {
  const c = clone(schema, msg);
  for (const f of schema.fields) if (!keep.includes(f.localName)) clearField(c, f);
  return toBinary(schema, c, { writeUnknownFields: true });
}

/**
 * A TensorProto as parts: its fields before raw_data (dims … name, fields 1-8), raw_data's header and
 * the raw bytes themselves (not copied), then its later fields. Protobuf writes fields in field-number
 * order, so the parts concatenate to exactly toBinary's bytes.
 */
function tensorParts(t: TensorProto): Uint8Array[] {
  if (t.rawData.length === 0) return [toBinary(TensorProtoSchema, t, { writeUnknownFields: true })];
  const headFields = ['dims', 'dataType', 'segment', 'floatData', 'int32Data', 'stringData', 'int64Data', 'name'];
  const tailFields = TensorProtoSchema.fields
    .map((f) => f.localName)
    .filter((n) => !headFields.includes(n) && n !== 'rawData');
  const raw = t.rawData;
  const shell = { ...t, rawData: new Uint8Array(0) } as TensorProto; // the copy leaves the raw bytes behind
  return [
    fieldsBytes(TensorProtoSchema, shell, headFields),
    delimited(9, raw.length),
    raw,
    fieldsBytes(TensorProtoSchema, shell, tailFields),
  ];
}

/** ModelProto's fields numbered after graph (7): written after it. */
function f7after(localName: string): boolean {
  const f = ModelProtoSchema.fields.find((x) => x.localName === localName)!;
  return f.number > 7;
}

export function encodeModelParts(model: ModelProto): Uint8Array[] {
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
  const inits: Uint8Array[] = [];
  for (const t of g.initializer) {
    const parts = tensorParts(t);
    inits.push(delimited(5, total(parts)), ...parts);
  }
  const graphLength = graphHead.length + total(inits) + graphTail.length;
  return [before, delimited(7, graphLength), graphHead, ...inits, graphTail, after];
}
