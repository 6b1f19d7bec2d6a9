/** The range command: the quantization range of one .npy tensor. */
import { readFileSync } from 'node:fs';
import { isQuantscopeError, QuantscopeError } from '../core/errors';
import { npyToFloat32, parseNpy } from '../data/npy';
import { choiceFlag, hasFlag, numberFlag, UsageError, type Args } from './args';
import { conventionFlag } from './flags';
import { RANGE_COMMAND_METHODS, tensorChannelRanges, tensorRange } from './range';

export async function cmdRange(a: Args): Promise<void> {
  const path = a.positional[0];
  if (!path) throw new UsageError('range needs a .npy tensor');
  let data: Float32Array;
  let shape: number[];
  try {
    const arr = parseNpy(readFileSync(path), path); // a Buffer is a Uint8Array: no copy
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
