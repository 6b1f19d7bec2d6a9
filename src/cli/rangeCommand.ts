/** The range command: the quantization range of one .npy tensor. */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { isQuantscopeError, QuantscopeError } from '../core/errors';
import { kernelBytes } from '../core/kernelMemory';
import { npyHeaderSpan, npyToFloat32, parseNpy } from '../data/npy';
import { choiceFlag, hasFlag, numberFlag, UsageError, type Args } from './args';
import { conventionFlag } from './flags';
import { RANGE_COMMAND_METHODS, tensorChannelRanges, tensorRange } from './range';

export async function cmdRange(a: Args): Promise<void> {
  const path = a.positional[0];
  if (!path) throw new UsageError('range needs a .npy tensor');
  let data: Float32Array;
  let shape: number[];
  try {
    const arr = parseNpy(readNpyBytes(path), path); // float32 data stays a view of the bytes read: no copy
    data = npyToFloat32(arr);
    shape = arr.shape;
  } catch (e) {
    if (isQuantscopeError(e)) throw e;
    throw new QuantscopeError('BAD_DATA', `${path}: cannot be read`);
  }
  const opts = {
    method: choiceFlag(a, 'method', RANGE_COMMAND_METHODS, 'minmax'),
    dtype: choiceFlag(a, 'dtype', ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'] as const, 'int8'),
    symmetric: hasFlag(a, 'symmetric'),
    reduceRange: hasFlag(a, 'reduce-range'),
    convention: conventionFlag(a),
    bins: numberFlag(a, 'bins', 2048)!,
    percentile: numberFlag(a, 'percentile'),
    quantizedBins: numberFlag(a, 'quantized-bins'),
    name: path,
  };
  const result = hasFlag(a, 'per-channel')
    ? tensorChannelRanges(data, shape, numberFlag(a, 'axis', 0)!, opts)
    : tensorRange(data, opts);
  if (hasFlag(a, 'json')) console.log(JSON.stringify(result));
  else
    console.log(
      Object.entries(result)
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? `[${v.join(', ')}]` : v}`)
        .join('\n'),
    );
}

/**
 * The file's bytes, read into the WebAssembly memory the min/max and histogram kernels share, with
 * the .npy payload 16-byte aligned there (core/kernelMemory.ts, kernelBytes): the kernels then read a
 * float32 tensor where it lies instead of copying it in 64 KiB at a time (4M values: ~50 ms of the
 * command's ~0.3 s on this machine, and one fewer 16 MiB buffer). A file that is not a .npy, or that
 * the memory has no room for, is read as a Buffer (parseNpy says what is wrong with it).
 */
function readNpyBytes(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(size, 12));
    readSync(fd, head, 0, head.length, 0);
    const span = npyHeaderSpan(head);
    const bytes = typeof span === 'string' ? null : kernelBytes(size, span.offset + span.headerLen);
    if (!bytes) return readFileSync(path);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, bytes, done, size - done, done);
      if (n === 0) break; // the file shrank while read: parseNpy finds it truncated
      done += n;
    }
    return bytes.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
