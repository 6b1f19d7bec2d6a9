/** Which opset a quantization config needs: types or block sizes QuantizeLinear-13 lacks call for 21. */
import type { QuantConfig } from '../core/config';
import type { IntDType } from '../core/dtype';

const WIDE_OR_NARROW = new Set<IntDType>(['int16', 'uint16', 'int4', 'uint4']);

/** Whether any choice, at any level, names a type QuantizeLinear-13 does not have. */
export function needsOpset21(config: QuantConfig): boolean {
  const dtypes: (IntDType | undefined)[] = [config.activations.dtype, config.weights.dtype];
  for (const o of Object.values(config.opTypes ?? {})) dtypes.push(o.activations?.dtype, o.weights?.dtype);
  for (const o of Object.values(config.tensors ?? {})) dtypes.push(o.activations?.dtype);
  for (const o of Object.values(config.nodes ?? {})) dtypes.push(o.weights?.dtype);
  const blocks = [
    config.weights.blockSize,
    ...Object.values(config.opTypes ?? {}).map((o) => o.weights?.blockSize),
    ...Object.values(config.nodes ?? {}).map((o) => o.weights?.blockSize),
  ];
  return dtypes.some((d) => d !== undefined && WIDE_OR_NARROW.has(d)) || blocks.some((b) => typeof b === 'number');
}
