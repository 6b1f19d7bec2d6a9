/**
 * ByteSources and Spools over Blobs (the page and its worker): a dropped data file read by slices,
 * and an in-memory spool of Blob parts for spilled tensors (see externalData.ts).
 */
import type { ByteSource, Spool } from './externalData';

/** A ByteSource over a Blob or File (the page: a dropped data file; Blob.slice never copies). */
export function blobSource(blob: Blob, name: string): ByteSource {
  const FRS = (globalThis as { FileReaderSync?: new () => { readAsArrayBuffer(b: Blob): ArrayBuffer } }).FileReaderSync;
  return {
    name,
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
    ...(FRS
      ? {
          readSync: (offset: number, length: number) =>
            new Uint8Array(new FRS().readAsArrayBuffer(blob.slice(offset, offset + length))),
        }
      : {}),
  };
}

/** A spool in memory as Blob parts (the page's worker: Blob storage, not the wasm heap). */
export function blobSpool(name: string): Spool & { parts: Blob[] } {
  const parts: Blob[] = [];
  const offsets: number[] = [];
  let size = 0;
  const locate = (offset: number, length: number): Blob => {
    // tensors are read back whole: the part that starts at offset
    let lo = 0;
    let hi = offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (offsets[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const start = offset - offsets[lo]!;
    return parts[lo]!.slice(start, start + length);
  };
  const FRS = (globalThis as { FileReaderSync?: new () => { readAsArrayBuffer(b: Blob): ArrayBuffer } }).FileReaderSync;
  return {
    name,
    parts,
    get size() {
      return size;
    },
    append: (bytes) => {
      const at = size;
      parts.push(new Blob([bytes as Uint8Array<ArrayBuffer>]));
      offsets.push(at);
      size += bytes.length;
      return at;
    },
    read: async (offset, length) => new Uint8Array(await locate(offset, length).arrayBuffer()),
    ...(FRS
      ? {
          readSync: (offset: number, length: number) =>
            new Uint8Array(new FRS().readAsArrayBuffer(locate(offset, length))),
        }
      : {}),
  };
}
