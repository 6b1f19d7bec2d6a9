/**
 * Reader for NumPy's .npy format (numpy/lib/format.py), versions 1.0-3.0.
 * Supported dtypes: <f4 <f8 <f2 <i8 <i4 |u1 (and |i1, <i2, |b1). Fortran order and big-endian
 * data are refused with a message rather than silently transposed or byte-swapped.
 */
import { halfToFloat } from '../core/float16';
import { QuantscopeError } from '../core/errors';

export type NpyData =
  Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Int16Array;

export interface NpyArray {
  readonly descr: string;
  readonly shape: number[];
  readonly data: NpyData;
  /** True for '<f2': `data` holds float16 bit patterns. */
  readonly isFloat16: boolean;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function fail(name: string, why: string): never {
  throw new QuantscopeError('BAD_DATA', `${name}: ${why}`);
}

/** Bytes an element of each supported dtype takes. */
const NPY_WIDTHS: Record<string, number> = {
  '<f4': 4,
  '<f8': 8,
  '<f2': 2,
  '<i8': 8,
  '<i4': 4,
  '<i2': 2,
  '|u1': 1,
  '|b1': 1,
  '|i1': 1,
};

/**
 * Where a .npy file's header text lies (`offset`, `headerLen` bytes; the payload follows it), read from
 * its first 12 bytes, or why it cannot be read: version 1.0 gives the length in 2 bytes at 8, versions 2.0
 * and 3.0 in 4 (numpy/lib/format.py).
 */
export function npyHeaderSpan(bytes: Uint8Array): { major: number; offset: number; headerLen: number } | string {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) return 'not a .npy file (bad magic)';
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major === 1) return { major, offset: 10, headerLen: view.getUint16(8, true) };
  if (major !== 2 && major !== 3) return `unsupported .npy format version ${major}`;
  if (bytes.length < 12) return 'truncated header';
  return { major, offset: 12, headerLen: view.getUint32(8, true) };
}

export function parseNpy(bytes: Uint8Array, name = 'array.npy'): NpyArray {
  const span = npyHeaderSpan(bytes);
  if (typeof span === 'string') fail(name, span);
  const { major, offset, headerLen } = span;
  if (offset + headerLen > bytes.length) fail(name, 'truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(offset, offset + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(name, 'malformed header');
  if (fortran === 'True') fail(name, 'Fortran-order arrays are not supported: save with np.ascontiguousarray');
  if (descr.startsWith('>'))
    fail(name, `big-endian dtype ${descr} is not supported: save with .astype('<${descr.slice(1)}')`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(name, `bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = offset + headerLen;
  // A view of the payload where it sits at an offset its element width divides (npy pads the header
  // to 64 bytes, so a file read whole always does); a copy otherwise. A view keeps `bytes` alive and
  // shares it: a 4M-float tensor costs its file once, not three times.
  const width = NPY_WIDTHS[descr] ?? 1;
  const aligned = (bytes.byteOffset + dataStart) % width === 0;
  const body = aligned ? bytes.subarray(dataStart) : bytes.slice(dataStart);
  const need = (width: number): void => {
    if (body.length < count * width)
      fail(name, `truncated data: ${count} elements of ${descr} need ${count * width} bytes, found ${body.length}`);
  };
  const buf = body.buffer;
  const at = body.byteOffset;
  let data: NpyData;
  switch (descr) {
    case '<f4':
      need(4);
      data = new Float32Array(buf, at, count);
      break;
    case '<f8':
      need(8);
      data = new Float64Array(buf, at, count);
      break;
    case '<f2':
      need(2);
      data = new Uint16Array(buf, at, count);
      break;
    case '<i8':
      need(8);
      data = new BigInt64Array(buf, at, count);
      break;
    case '<i4':
      need(4);
      data = new Int32Array(buf, at, count);
      break;
    case '<i2':
      need(2);
      data = new Int16Array(buf, at, count);
      break;
    case '|u1':
    case '|b1':
      need(1);
      data = new Uint8Array(buf, at, count);
      break;
    case '|i1':
      need(1);
      data = new Int8Array(buf, at, count);
      break;
    default:
      fail(name, `unsupported dtype ${descr} (supported: <f4 <f8 <f2 <i8 <i4 <i2 |u1 |i1)`);
  }
  return { descr, shape, data, isFloat16: descr === '<f2' };
}

/** The array as float32 values (float16 bits decoded; int64 converted, exactly below 2^24). */
export function npyToFloat32(arr: NpyArray): Float32Array {
  if (arr.data instanceof Float32Array) return arr.data;
  if (arr.isFloat16) return Float32Array.from(arr.data as Uint16Array, halfToFloat);
  if (arr.data instanceof BigInt64Array) return Float32Array.from(arr.data, (v) => Number(v));
  return Float32Array.from(arr.data as ArrayLike<number>);
}
