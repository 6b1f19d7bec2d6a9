/**
 * External data (onnx/docs/ExternalData.md): an initializer whose `data_location` is EXTERNAL keeps
 * its bytes in another file, named by the `location` entry of `external_data` (relative to the
 * .onnx), at `offset` (default 0) for `length` bytes (default: to the end of the file).
 *
 * Tensors are never copied when a model is opened: an external tensor stays a TensorProto without
 * bytes whose `external_data` gains one private entry (SOURCE_KEY) naming an open ByteSource (a file
 * descriptor in Node, a Blob in the page). That entry survives every clone a pass makes, so any pass
 * can read the tensor later through `tensorBytes` (sync: Node's fs, a worker's FileReaderSync) or
 * `readTensorBytes` (async: Blob.slice().arrayBuffer()). The writer (writeModel.ts) strips the entry.
 *
 * `spillLargeTensors` is the other half of streaming: while it runs, every large tensor a form creates
 * (makeTensor) goes straight to a spool and becomes a lazy tensor too, so a form that walks a 2.5 GB
 * model holds one weight at a time, not the whole output.
 */
import { clearField, create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, TensorProto_DataLocation, TensorProtoSchema } from 'onnx-buf';
import { QuantscopeError } from '../core/errors';
import type { GraphProto, ModelProto, TensorProto } from './proto';

/** Random access to the bytes of one file (or Blob). */
export interface ByteSource {
  /** The file's name as the .onnx names it (or the spool's). */
  readonly name: string;
  readonly size: number;
  /** Sync read (Node's fs.readSync; FileReaderSync in a worker): what the sync forms use. */
  readonly readSync?: (offset: number, length: number) => Uint8Array;
  readonly read: (offset: number, length: number) => Promise<Uint8Array>;
}

/** Where an external tensor's bytes are, from its `external_data` entries. */
export interface ExternalRef {
  readonly location: string;
  readonly offset: number;
  /** undefined: to the end of the file (the spec's default). */
  readonly length: number | undefined;
}

/** The private `external_data` key naming the open source a lazy tensor reads from. */
export const SOURCE_KEY = 'quantscope.source';

const sources = new Map<string, ByteSource>();
let nextSourceId = 0;

/** Register a source; the id goes into the tensors that read from it. */
export function registerSource(source: ByteSource): string {
  const id = `s${nextSourceId++}:${source.name}`;
  sources.set(id, source);
  return id;
}

export function releaseSource(id: string): void {
  sources.delete(id);
}

export function isExternal(t: TensorProto): boolean {
  return t.dataLocation === TensorProto_DataLocation.EXTERNAL;
}

function entry(t: TensorProto, key: string): string | undefined {
  return t.externalData.find((e) => e.key === key)?.value;
}

function intEntry(t: TensorProto, key: string): number | undefined {
  const v = entry(t, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n))
    throw new QuantscopeError('EXTERNAL_DATA', `tensor "${t.name}": external data ${key} "${v}" is not a byte count`);
  return n;
}

export function externalRef(t: TensorProto): ExternalRef {
  const location = entry(t, 'location');
  if (!location)
    throw new QuantscopeError('EXTERNAL_DATA', `tensor "${t.name}" is external but names no data file (location)`);
  // The spec: a path relative to the model's directory; absolute paths and ".." are refused (as
  // onnx/checker.cc's _validate_external_data_path does), so a model cannot name an arbitrary file.
  if (/^([/\\]|[A-Za-z]:)/.test(location) || location.split(/[/\\]/).includes('..'))
    throw new QuantscopeError(
      'EXTERNAL_DATA',
      `tensor "${t.name}": data file "${location}" is not a path inside the model's folder`,
    );
  return { location, offset: intEntry(t, 'offset') ?? 0, length: intEntry(t, 'length') };
}

/** Every tensor of a graph and its subgraphs (initializers and Constant/attribute tensors). */
export function* graphTensors(graph: GraphProto): Generator<TensorProto> {
  yield* graph.initializer;
  for (const n of graph.node) {
    for (const a of n.attribute) {
      if (a.t) yield a.t;
      if (a.g) yield* graphTensors(a.g);
      for (const g of a.graphs) yield* graphTensors(g);
    }
  }
}

/** The data files a model's external tensors name, in first-use order. */
export function externalDataFiles(model: ModelProto): string[] {
  const names = new Set<string>();
  for (const t of graphTensors(model.graph!)) if (isExternal(t)) names.add(externalRef(t).location);
  return [...names];
}

/** The file names in a location, for matching a dropped file by its base name ("sub/x.bin" → "x.bin"). */
function baseName(p: string): string {
  return p.split(/[/\\]/).pop()!;
}

/**
 * Tie each external tensor of a model to its open data file: the file missing, or too short for a
 * tensor, is refused by name. Nothing is read. Returns the ids to release when done.
 */
export function attachExternalData(
  model: ModelProto,
  modelName: string,
  files: ReadonlyMap<string, ByteSource> | readonly ByteSource[],
): string[] {
  const byName = new Map<string, ByteSource>();
  const list: [string, ByteSource][] =
    files instanceof Map ? [...files.entries()] : (files as readonly ByteSource[]).map((s) => [s.name, s]);
  for (const [k, s] of list) {
    byName.set(k, s);
    if (!byName.has(baseName(k))) byName.set(baseName(k), s);
  }
  const ids = new Map<ByteSource, string>();
  for (const t of graphTensors(model.graph!)) {
    if (!isExternal(t)) continue;
    const ref = externalRef(t);
    const src = byName.get(ref.location) ?? byName.get(baseName(ref.location));
    if (!src)
      throw new QuantscopeError(
        'EXTERNAL_DATA_MISSING',
        `${modelName} keeps tensor "${t.name}" in "${ref.location}", which was not given: open it together with the .onnx (same folder)`,
      );
    const length = ref.length ?? src.size - ref.offset;
    if (ref.offset + length > src.size || length < 0)
      throw new QuantscopeError(
        'EXTERNAL_DATA_SHORT',
        `${ref.location} is ${src.size} bytes, too short for tensor "${t.name}" of ${modelName} (bytes ${ref.offset} to ${ref.offset + length}): the file is truncated or is not this model's`,
      );
    let id = ids.get(src);
    if (!id) ids.set(src, (id = registerSource(src)));
    setEntries(t, [
      ['location', ref.location],
      ['offset', String(ref.offset)],
      ['length', String(length)],
      [SOURCE_KEY, id],
    ]);
  }
  return [...ids.values()];
}

function setEntries(t: TensorProto, kv: readonly (readonly [string, string])[]): void {
  t.externalData = kv.map(([key, value]) => create(StringStringEntryProtoSchema, { key, value }));
}

/** A lazy tensor: where its bytes are, if it has no bytes of its own. */
export function lazySlice(t: TensorProto): { source: ByteSource; offset: number; length: number } | undefined {
  if (!isExternal(t)) return undefined;
  const id = entry(t, SOURCE_KEY);
  const source = id ? sources.get(id) : undefined;
  if (!source)
    throw new QuantscopeError(
      'EXTERNAL_DATA',
      `tensor "${t.name}" keeps its bytes in "${entry(t, 'location') ?? '?'}", which is not open: load the model with its data files`,
    );
  const ref = externalRef(t);
  return { source, offset: ref.offset, length: ref.length ?? source.size - ref.offset };
}

/** Counts for the streaming tests and bench: reads of lazy tensors and spills of new ones. */
export interface StreamStats {
  tensorsRead: number;
  bytesRead: number;
  tensorsSpilled: number;
  bytesSpilled: number;
  /** Large tensors created by a form and kept in memory (not spilled), so far. */
  heldInMemory: number;
  /** The most large tensors in memory at once: heldInMemory plus the one being read, at each read. */
  maxHeld: number;
}

export function newStreamStats(): StreamStats {
  return { tensorsRead: 0, bytesRead: 0, tensorsSpilled: 0, bytesSpilled: 0, heldInMemory: 0, maxHeld: 0 };
}

let activeStats: StreamStats | undefined;

/** A lazy tensor's bytes, read synchronously (Node, or a worker); a tensor with raw_data returns it. */
export function tensorBytes(t: TensorProto): Uint8Array {
  const s = lazySlice(t);
  if (!s) return t.rawData;
  if (!s.source.readSync)
    throw new QuantscopeError(
      'EXTERNAL_DATA',
      `tensor "${t.name}" is in ${s.source.name}, which cannot be read synchronously here (read it in the worker)`,
    );
  noteRead(s.length);
  return s.source.readSync(s.offset, s.length);
}

export async function readTensorBytes(t: TensorProto): Promise<Uint8Array> {
  const s = lazySlice(t);
  if (!s) return t.rawData;
  noteRead(s.length);
  return s.source.read(s.offset, s.length);
}

function noteRead(bytes: number): void {
  if (!activeStats) return;
  activeStats.tensorsRead++;
  activeStats.bytesRead += bytes;
  activeStats.maxHeld = Math.max(activeStats.maxHeld, activeStats.heldInMemory + 1);
}

/** Bytes a tensor's payload takes in raw_data or in its data file. */
export function storedByteLength(t: TensorProto): number {
  const s = isExternal(t) ? lazySlice(t) : undefined;
  return s ? s.length : t.rawData.length;
}

/** Give every external tensor its bytes (small models: what onnxruntime sessions built from bytes need). */
export async function materializeExternalData(model: ModelProto): Promise<void> {
  for (const t of graphTensors(model.graph!)) {
    if (!isExternal(t)) continue;
    const bytes = await readTensorBytes(t);
    t.rawData = bytes as Uint8Array<ArrayBuffer>;
    t.externalData = [];
    clearField(t, TensorProtoSchema.field.dataLocation); // unset, not DEFAULT: proto2 writes a default that is set
  }
}

/** Where spilled tensors go: append-only, readable back. */
export interface Spool extends ByteSource {
  /** Append bytes (sync: forms are sync); returns their offset. */
  readonly append: (bytes: Uint8Array) => number;
}

/** Tensors at least this large are spilled (smaller ones, scales and shapes, stay in memory). */
export const DEFAULT_SPILL_BYTES = 64 * 1024;

let activeSpill: { spool: Spool; id: string; minBytes: number } | undefined;

/**
 * Run `fn` (a form) so that each tensor of at least `minBytes` it creates is written to the spool at
 * once and kept as a lazy tensor: the form holds the weight it is working on and nothing more.
 * `stats` counts reads and spills; without a spool (spool undefined) it only counts, so a test can
 * show what the unbounded path would hold.
 */
export function spillLargeTensors<T>(
  spool: Spool | undefined,
  stats: StreamStats,
  fn: () => T,
  minBytes = DEFAULT_SPILL_BYTES,
): T {
  const before = { spill: activeSpill, stats: activeStats, minBytes: heldMinBytes };
  activeSpill = spool ? { spool, id: registerSource(spool), minBytes } : undefined;
  activeStats = stats;
  heldMinBytes = minBytes;
  try {
    return fn();
  } finally {
    activeSpill = before.spill;
    activeStats = before.stats;
    heldMinBytes = before.minBytes;
  }
}

let heldMinBytes = DEFAULT_SPILL_BYTES;

/** Called by makeTensor: spill a large new tensor when a spool is active. */
export function spillIfActive(t: TensorProto): void {
  if (!activeStats || t.rawData.length < heldMinBytes) return;
  if (!activeSpill) {
    activeStats.heldInMemory++;
    return;
  }
  const bytes = t.rawData;
  const offset = activeSpill.spool.append(bytes);
  activeStats.tensorsSpilled++;
  activeStats.bytesSpilled += bytes.length;
  t.rawData = new Uint8Array(0);
  t.dataLocation = TensorProto_DataLocation.EXTERNAL;
  setEntries(t, [
    ['location', activeSpill.spool.name],
    ['offset', String(offset)],
    ['length', String(bytes.length)],
    [SOURCE_KEY, activeSpill.id],
  ]);
}
