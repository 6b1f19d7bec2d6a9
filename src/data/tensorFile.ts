/**
 * Calibration tensors from files: .npy (one sample), .npz (arrays named by model input) and ONNX
 * test-data TensorProto files (input_N.pb). Each becomes a typed tensor; `fitToInput` then checks
 * it against the model input it feeds and names the file, the input and both shapes when it does not fit.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { unzipSync } from 'fflate';
import { TensorProtoSchema } from 'onnx-buf';
import { QuantscopeError } from '../core/errors';
import { dimsOf, readFloat32, readInts, DT, dataTypeName } from '../onnx';
import type { FeedTensor, FeedType } from './feeds';
import { npyToFloat32, parseNpy, type NpyArray } from './npy';

export interface NamedTensor {
  /** The input it is named for (npz key, TensorProto name), if any. */
  readonly name: string | null;
  readonly source: string;
  readonly tensor: FeedTensor;
}

function fromNpy(arr: NpyArray, name: string | null, source: string): NamedTensor {
  const dims = arr.shape;
  if (arr.data instanceof BigInt64Array) return { name, source, tensor: { type: 'int64', data: arr.data, dims } };
  if (arr.data instanceof Int32Array) return { name, source, tensor: { type: 'int32', data: arr.data, dims } };
  if (arr.descr === '|u1') return { name, source, tensor: { type: 'uint8', data: arr.data as Uint8Array, dims } };
  if (arr.descr === '|b1') return { name, source, tensor: { type: 'bool', data: arr.data as Uint8Array, dims } };
  return { name, source, tensor: { type: 'float32', data: npyToFloat32(arr), dims } };
}

export function readNpyFile(bytes: Uint8Array, fileName: string): NamedTensor {
  return fromNpy(parseNpy(bytes, fileName), null, fileName);
}

export function readNpzFile(bytes: Uint8Array, fileName: string): NamedTensor[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new QuantscopeError(
      'BAD_DATA',
      `${fileName} is not a valid .npz (zip) archive (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const arrays = Object.entries(entries).filter(([k]) => k.endsWith('.npy'));
  if (arrays.length === 0) throw new QuantscopeError('BAD_DATA', `${fileName} holds no .npy arrays`);
  return arrays.map(([k, v]) => fromNpy(parseNpy(v, `${fileName}:${k}`), k.slice(0, -4), `${fileName}:${k}`));
}

export function readTensorProtoFile(bytes: Uint8Array, fileName: string): NamedTensor {
  let t;
  try {
    t = fromBinary(TensorProtoSchema, bytes);
  } catch (e) {
    throw new QuantscopeError(
      'BAD_DATA',
      `${fileName} is not a TensorProto (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (
    t.dataType === 0 ||
    (t.dims.length > 0 &&
      t.rawData.length === 0 &&
      t.floatData.length === 0 &&
      t.int64Data.length === 0 &&
      t.int32Data.length === 0 &&
      t.doubleData.length === 0)
  ) {
    throw new QuantscopeError('BAD_DATA', `${fileName} is not a TensorProto with data`);
  }
  const dims = dimsOf(t);
  const name = t.name || null;
  switch (t.dataType) {
    case DT.FLOAT:
    case DT.DOUBLE:
    case DT.FLOAT16:
      return { name, source: fileName, tensor: { type: 'float32', data: readFloat32(t), dims } };
    case DT.INT64:
      return { name, source: fileName, tensor: { type: 'int64', data: BigInt64Array.from(readInts(t), BigInt), dims } };
    case DT.INT32:
      return { name, source: fileName, tensor: { type: 'int32', data: Int32Array.from(readInts(t)), dims } };
    default:
      throw new QuantscopeError(
        'UNSUPPORTED_DTYPE',
        `${fileName}: tensors of type ${dataTypeName(t.dataType)} are not supported as calibration data`,
      );
  }
}

/** The input index of an ONNX test-data file name (input_3.pb → 3). */
export function testDataInputIndex(fileName: string): number | null {
  const m = /input_(\d+)\.pb$/.exec(fileName);
  return m ? Number(m[1]) : null;
}

export interface ModelInput {
  readonly name: string;
  /** Element type name as the summary reports it (float, int64, ...). */
  readonly dtype: string;
  readonly shape: readonly (number | string)[] | null;
}

const FEED_TYPE_FOR: Record<string, FeedType> = {
  float: 'float32',
  int64: 'int64',
  int32: 'int32',
  uint8: 'uint8',
  bool: 'bool',
  int8: 'int8',
};

function fmt(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Check a tensor against the input it feeds: the element type must match (float data of any width
 * feeds a float input; int32 widens to int64), and every fixed dimension must equal the data's.
 */
export function fitToInput(t: NamedTensor, input: ModelInput): FeedTensor {
  const want = FEED_TYPE_FOR[input.dtype];
  if (!want)
    throw new QuantscopeError(
      'UNSUPPORTED_DTYPE',
      `input "${input.name}" is ${input.dtype}: calibration data for it is not supported`,
    );
  let tensor = t.tensor;
  if (tensor.type !== want) {
    if (want === 'int64' && tensor.type === 'int32')
      tensor = {
        type: 'int64',
        data: BigInt64Array.from(tensor.data as Int32Array, (v) => BigInt(v)),
        dims: tensor.dims,
      };
    else
      throw new QuantscopeError(
        'BAD_DATA',
        `${t.source} holds ${tensor.type} data but input "${input.name}" takes ${want}`,
      );
  }
  if (input.shape) {
    const ok =
      input.shape.length === tensor.dims.length &&
      input.shape.every((d, i) => typeof d !== 'number' || d === tensor.dims[i]);
    if (!ok)
      throw new QuantscopeError(
        'BAD_DATA',
        `${t.source} has shape ${fmt(tensor.dims)} but input "${input.name}" takes ${fmt(input.shape)}`,
      );
  }
  return tensor;
}
