/**
 * Writes and reads any table of TFLite's schema with the `flatbuffers` runtime (Builder, ByteBuffer),
 * driven by the layouts generated from schema.fbs (schema/generated.ts). Field slot k sits at vtable
 * offset 4 + 2k; a union's `_type` byte takes the slot before its value (flatc's convention).
 */
import { Builder, ByteBuffer } from 'flatbuffers';
import { QuantscopeError } from '../../../core/errors';
import {
  FILE_IDENTIFIER,
  TABLES,
  type FieldLayout,
  type Model,
  type Scalar,
  type TableLayout,
  type UnionValue,
} from './schema/generated';

type Obj = Record<string, unknown>;

const SIZE: Record<Scalar, number> = {
  bool: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  float32: 4,
  float64: 8,
};

function layout(name: string): TableLayout {
  const t = TABLES[name];
  if (!t) throw new QuantscopeError('TFLITE_SCHEMA', `no table ${name} in TFLite's schema`);
  return t;
}

function addScalar(b: Builder, s: Scalar, v: number): void {
  switch (s) {
    case 'bool':
    case 'int8':
    case 'uint8':
      return b.addInt8(v);
    case 'int16':
    case 'uint16':
      return b.addInt16(v);
    case 'int32':
    case 'uint32':
      return b.addInt32(v);
    case 'int64':
    case 'uint64':
      return b.addInt64(BigInt(v));
    case 'float32':
      return b.addFloat32(v);
    case 'float64':
      return b.addFloat64(v);
  }
}

function addField(b: Builder, slot: number, s: Scalar, v: number, def: number): void {
  switch (s) {
    case 'bool':
    case 'int8':
    case 'uint8':
      return b.addFieldInt8(slot, v, def);
    case 'int16':
    case 'uint16':
      return b.addFieldInt16(slot, v, def);
    case 'int32':
    case 'uint32':
      return b.addFieldInt32(slot, v, def);
    case 'int64':
    case 'uint64':
      return b.addFieldInt64(slot, BigInt(v), BigInt(def));
    case 'float32':
      return b.addFieldFloat32(slot, v, def);
    case 'float64':
      return b.addFieldFloat64(slot, v, def);
  }
}

/** The Builder's byte vector with an alignment (Buffer.data is force_align: 16): createByteVector, aligned. */
function byteVector(b: Builder, v: Uint8Array, align: number): number {
  b.startVector(1, v.length, align);
  // Builder keeps `space` and `bb` private; createByteVector does exactly this with alignment 1.
  const inner = b as unknown as { space: number; bb: ByteBuffer };
  inner.space -= v.length;
  inner.bb.setPosition(inner.space);
  inner.bb.bytes().set(v, inner.space);
  return b.endVector();
}

function writeVector(b: Builder, f: FieldLayout, value: unknown): number {
  if (f.kind === 'scalars') {
    const arr = value as ArrayLike<number>;
    if (f.scalar === 'uint8' || f.scalar === 'int8') {
      const bytes = arr instanceof Uint8Array ? arr : Uint8Array.from(arr as ArrayLike<number>, (x) => x & 0xff);
      return byteVector(b, bytes, Math.max(1, f.align));
    }
    const size = SIZE[f.scalar];
    b.startVector(size, arr.length, Math.max(size, f.align));
    for (let i = arr.length - 1; i >= 0; i--) addScalar(b, f.scalar, arr[i]!);
    return b.endVector();
  }
  const items = value as unknown[];
  const offsets =
    f.kind === 'strings'
      ? items.map((s) => b.createString(s as string))
      : items.map((o) => writeTable(b, (f as { table: string }).table, o as Obj));
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

/** Writes one table (children first, as FlatBuffers requires) and returns its offset. */
export function writeTable(b: Builder, table: string, obj: Obj): number {
  const t = layout(table);
  const offsets = new Map<string, number>();
  for (const f of t.fields) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    if (f.kind === 'string') offsets.set(f.name, b.createString(v as string));
    else if (f.kind === 'table') offsets.set(f.name, writeTable(b, f.table, v as Obj));
    else if (f.kind === 'union') {
      const u = v as UnionValue;
      if (!f.union.includes(u.type))
        throw new QuantscopeError('TFLITE_SCHEMA', `${u.type} is not in ${table}.${f.name}`);
      offsets.set(f.name, writeTable(b, u.type, u.value));
    } else if (f.kind === 'scalars' || f.kind === 'strings' || f.kind === 'tables')
      offsets.set(f.name, writeVector(b, f, v));
  }
  b.startObject(t.slots);
  for (const f of t.fields) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    if (f.kind === 'scalar') addField(b, f.slot, f.scalar, typeof v === 'boolean' ? +v : (v as number), f.default);
    else if (f.kind === 'union') {
      b.addFieldInt8(f.slot - 1, f.union.indexOf((v as UnionValue).type) + 1, 0);
      b.addFieldOffset(f.slot, offsets.get(f.name)!, 0);
    } else b.addFieldOffset(f.slot, offsets.get(f.name)!, 0);
  }
  return b.endObject();
}

/** A whole .tflite file: the Model table, finished with the "TFL3" identifier. */
export function encodeTflite(model: Model, initialSize = 1 << 20): Uint8Array {
  const b = new Builder(initialSize);
  b.finish(writeTable(b, 'Model', model as Obj), FILE_IDENTIFIER);
  return b.asUint8Array();
}

function readScalar(bb: ByteBuffer, s: Scalar, pos: number): number {
  switch (s) {
    case 'bool':
    case 'uint8':
      return bb.readUint8(pos);
    case 'int8':
      return bb.readInt8(pos);
    case 'int16':
      return bb.readInt16(pos);
    case 'uint16':
      return bb.readUint16(pos);
    case 'int32':
      return bb.readInt32(pos);
    case 'uint32':
      return bb.readUint32(pos);
    case 'int64':
      return Number(bb.readInt64(pos));
    case 'uint64':
      return Number(bb.readUint64(pos));
    case 'float32':
      return bb.readFloat32(pos);
    case 'float64':
      return bb.readFloat64(pos);
  }
}

/** Reads one table at `pos` into a plain object: only the fields present (defaults omitted, as written). */
export function readTable(bb: ByteBuffer, table: string, pos: number): Obj {
  const t = layout(table);
  const out: Obj = {};
  for (const f of t.fields) {
    const o = bb.__offset(pos, 4 + 2 * f.slot);
    if (!o) continue;
    const at = pos + o;
    switch (f.kind) {
      case 'scalar': {
        const v = readScalar(bb, f.scalar, at);
        out[f.name] = f.scalar === 'bool' ? v !== 0 : v;
        break;
      }
      case 'string':
        out[f.name] = bb.__string(at) as string;
        break;
      case 'table':
        out[f.name] = readTable(bb, f.table, bb.__indirect(at));
        break;
      case 'union': {
        const tag = bb.readUint8(pos + bb.__offset(pos, 4 + 2 * (f.slot - 1)));
        const type = f.union[tag - 1]!;
        out[f.name] = { type, value: readTable(bb, type, bb.__indirect(at)) };
        break;
      }
      case 'scalars': {
        const start = bb.__vector(at);
        const n = bb.__vector_len(at);
        if (f.scalar === 'uint8') out[f.name] = bb.bytes().slice(start, start + n);
        else out[f.name] = Array.from({ length: n }, (_, i) => readScalar(bb, f.scalar, start + i * SIZE[f.scalar]));
        break;
      }
      case 'strings':
      case 'tables': {
        const start = bb.__vector(at);
        const n = bb.__vector_len(at);
        out[f.name] = Array.from({ length: n }, (_, i) =>
          f.kind === 'strings'
            ? (bb.__string(start + 4 * i) as string)
            : readTable(bb, f.table, bb.__indirect(start + 4 * i)),
        );
        break;
      }
    }
  }
  return out;
}

/** Decodes a .tflite file back into the Model object (golden tests, the report). */
export function decodeTflite(bytes: Uint8Array): Model {
  const bb = new ByteBuffer(bytes);
  if (!bb.__has_identifier(FILE_IDENTIFIER)) {
    throw new QuantscopeError('TFLITE_SCHEMA', `not a TFLite flatbuffer (no "${FILE_IDENTIFIER}" identifier)`);
  }
  return readTable(bb, 'Model', bb.readInt32(bb.position()) + bb.position()) as Model;
}
