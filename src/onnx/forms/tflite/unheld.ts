/**
 * The quantization choices a TFLite int8 file cannot hold: by TFLite's int8 specification every tensor is
 * int8 (activations asymmetric per tensor, Conv weights symmetric per output channel), and no node stays
 * float. The writer uses the calibrated ranges and their method; these other choices, made for the ONNX
 * forms, are written int8 all the same, and the page says so beside the file (the command line refuses
 * them as flags: cli/flags.ts).
 */
import type { QuantConfig } from '../../../core/config';

export function tfliteInt8Unheld(config: QuantConfig): string[] {
  const overrides = [...Object.values(config.opTypes ?? {}), ...Object.values(config.tensors ?? {})];
  const actDtypes = new Set(
    [config.activations.dtype, ...overrides.map((o) => o.activations?.dtype)].filter(
      (d): d is NonNullable<typeof d> => d !== undefined && d !== 'int8',
    ),
  );
  const symmetric = config.activations.symmetric || overrides.some((o) => o.activations?.symmetric === true);
  const weightOverrides = [...Object.values(config.opTypes ?? {}), ...Object.values(config.nodes ?? {})];
  const weightDtypes = new Set(
    [config.weights.dtype, ...weightOverrides.map((o) => o.weights?.dtype)].filter(
      (d): d is NonNullable<typeof d> => d !== undefined && d !== 'int8',
    ),
  );
  const perTensor = !config.weights.perChannel || weightOverrides.some((o) => o.weights?.perChannel === false);
  const excluded =
    config.excludeNodes.length +
    [...overrides, ...Object.values(config.nodes ?? {})].filter((o) => o.exclude === true).length;
  return [
    ...[...actDtypes].map((d) => `${d} activations`),
    ...(symmetric ? ['symmetric activations'] : []),
    ...[...weightDtypes].map((d) => `${d} weights`),
    ...(perTensor ? ['per-tensor weights'] : []),
    ...(excluded ? [`${excluded} node${excluded === 1 ? '' : 's'} or tensors kept float`] : []),
  ];
}
