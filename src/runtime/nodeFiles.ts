/**
 * Node's side of external data and streaming (onnx/externalData.ts, onnx/writeModel.ts): a data file
 * as a ByteSource read at offsets through a file descriptor (never loaded whole), a spool file for
 * the tensors a streaming form creates, and sinks that write to temporary names renamed only when
 * every file is complete, so nothing half-written is left.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { QuantscopeError } from '../core/errors';
import type { ByteSink, ByteSource, Spool } from '../onnx';

/** A file as a ByteSource: reads at an offset through one descriptor (close() when done). */
export function fileSource(path: string, name = basename(path)): ByteSource & { readonly path: string; close(): void } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new QuantscopeError(
      'EXTERNAL_DATA_MISSING',
      `${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const size = fstatSync(fd).size;
  const readSyncAt = (offset: number, length: number): Uint8Array => {
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, out, got, length - got, offset + got);
      if (n === 0)
        throw new QuantscopeError(
          'EXTERNAL_DATA_SHORT',
          `${path} ends at ${offset + got} bytes, before ${offset + length}`,
        );
      got += n;
    }
    return out;
  };
  return {
    name,
    path,
    size,
    readSync: readSyncAt,
    read: async (offset, length) => readSyncAt(offset, length),
    close: () => closeSync(fd),
  };
}

/** A spool file for the tensors a streaming form creates (removed by close()). */
export function fileSpool(path: string): Spool & { close(): void } {
  const fd = openSync(path, 'w+');
  let size = 0;
  const readSyncAt = (offset: number, length: number): Uint8Array => {
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) got += readSync(fd, out, got, length - got, offset + got);
    return out;
  };
  return {
    name: basename(path),
    get size() {
      return size;
    },
    append: (bytes) => {
      const at = size;
      let put = 0;
      while (put < bytes.length) put += writeSync(fd, bytes, put, bytes.length - put, at + put);
      size += bytes.length;
      return at;
    },
    readSync: readSyncAt,
    read: async (offset, length) => readSyncAt(offset, length),
    close: () => {
      closeSync(fd);
      rmSync(path, { force: true });
    },
  };
}

/** A file written through a temporary name: commit() renames it into place, abort() removes it. */
export function fileSink(path: string): ByteSink & { commit(): void; abort(): void; readonly bytes: number } {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw new QuantscopeError(
      'BAD_DATA',
      `${path}: cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  let bytes = 0;
  const close = () => {
    if (fd === undefined) return;
    closeSync(fd);
    fd = undefined;
  };
  return {
    get bytes() {
      return bytes;
    },
    write: (b) => {
      let put = 0;
      try {
        while (put < b.length) put += writeSync(fd!, b, put, b.length - put);
      } catch (e) {
        throw new QuantscopeError('BAD_DATA', `${path}: cannot be written (${(e as Error).message})`);
      }
      bytes += b.length;
    },
    commit: () => {
      close();
      try {
        renameSync(tmp, path);
      } catch (e) {
        // a directory there, say: named and coded like a file that cannot be opened, the temporary removed
        rmSync(tmp, { force: true });
        throw new QuantscopeError(
          'BAD_DATA',
          `${path}: cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        );
      }
    },
    abort: () => {
      try {
        close();
      } finally {
        rmSync(tmp, { force: true });
      }
    },
  };
}
