/**
 * The quantization choices a TFLite int8 file cannot hold: by TFLite's int8 specification every tensor is
 * int8 (activations asymmetric per tensor, Conv weights symmetric per output channel), and no node stays
 * float. The writer uses the calibrated ranges and their method; these other choices, made for the ONNX
 * forms, are written int8 all the same, and the page says so beside the file (the command line refuses
 * them as flags: cli/flags.ts, and says so for a recipe that holds them).
 */
import { DEFAULT_CONFIG, type ActivationConfig, type Override, type QuantConfig } from '../../../core/config';

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

/** An activation override without the dtype and symmetry a TFLite int8 file sets itself. */
function heldActivations(a: Partial<ActivationConfig> | undefined): Partial<ActivationConfig> | undefined {
  if (!a) return undefined;
  const { dtype: _dtype, symmetric: _symmetric, ...rest } = a;
  return Object.keys(rest).length ? rest : undefined;
}

function heldOverrides<T extends Pick<Override, 'activations'>>(
  o: Readonly<Record<string, T>> | undefined,
): Record<string, Pick<Override, 'activations'>> | undefined {
  if (!o) return undefined;
  const kept = Object.entries(o).flatMap(([k, v]) => {
    const activations = heldActivations(v.activations);
    return activations ? [[k, { activations }] as const] : [];
  });
  return kept.length ? Object.fromEntries(kept) : undefined;
}

/**
 * The configuration a TFLite int8 file holds, for its static QDQ twin (the command line's check, which
 * cannot run the .tflite): activations int8 asymmetric per tensor with the config's own method,
 * convention and hand-set ranges (the writer's paramsFor), weights int8 symmetric per channel with
 * the bias scale rule (constants.ts `weight`), FullyConnected's (MatMul, Gemm) per tensor unless the file
 * has them per channel, no node kept float. What tfliteInt8Unheld lists is gone.
 */
export function tfliteInt8HeldConfig(
  config: QuantConfig,
  { fullyConnectedPerChannel = false }: { fullyConnectedPerChannel?: boolean } = {},
): QuantConfig {
  const { opTypes, tensors, nodes: _nodes, ...rest } = config;
  const fc: Override = { weights: { perChannel: false } };
  const held: Record<string, Override> = heldOverrides(opTypes) ?? {};
  const heldOpTypes = fullyConnectedPerChannel
    ? held
    : { ...held, MatMul: { ...held.MatMul, ...fc }, Gemm: { ...held.Gemm, ...fc } };
  const heldTensors = heldOverrides(tensors);
  return {
    ...rest,
    activations: { ...config.activations, dtype: 'int8', symmetric: false },
    weights: { ...DEFAULT_CONFIG.weights },
    ...(Object.keys(heldOpTypes).length ? { opTypes: heldOpTypes } : {}),
    ...(heldTensors ? { tensors: heldTensors } : {}),
    excludeNodes: [],
  };
}
