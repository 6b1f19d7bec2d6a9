/** The quantization choices from command-line flags; defaults are what works for most models. */
import { DEFAULT_CONFIG, type QuantConfig } from '../core/config';
import { defaultForm, defaultWeightDtype, type FormKind } from '../core/exportForms';
import { METHOD_VARIANTS, methodVariant, variantFields } from '../core/methods';
import { applyPreset, PYTORCH_PRESETS, type PytorchPreset } from '../core/presets';
import { choiceFlag, hasFlag, numberFlag, flagValue, UsageError, type Args } from './args';

/** Whose rules for scale and zero point: one vocabulary for every command. */
/** --format's names for the export forms (core/exportForms). */
const CLI_FORMATS = {
  qdq: 'qdq',
  'weight-only': 'dq',
  matmulnbits: 'matmulnbits',
  dynamic: 'dynamic',
  fp16: 'float16',
  bf16: 'bfloat16',
  q4f16: 'q4f16',
  tflite: 'tflite-int8',
  'tflite-float16': 'tflite-float16',
  'tflite-float32': 'tflite-float32',
} as const satisfies Record<string, FormKind>;

export function conventionFlag(a: Args): 'onnxruntime' | 'pytorch' {
  return choiceFlag(a, 'convention', ['onnxruntime', 'pytorch'] as const, 'onnxruntime');
}

/** The flags a --preset sets itself: giving one of them too is a contradiction, refused. */
const PRESET_SETS = [
  'weights',
  'activations',
  'per-tensor',
  'per-channel',
  'block-size',
  'symmetric-activations',
  'method',
  'percentile',
  'convention',
  'reduce-range',
] as const;

/**
 * --preset fbgemm|x86|qnnpack: every choice as PyTorch's get_default_qconfig(backend) makes it
 * (core/presets.ts), static QDQ.
 */
function presetFlag(a: Args): PytorchPreset | null {
  if (flagValue(a, 'preset') === undefined) return null;
  const p = choiceFlag(a, 'preset', PYTORCH_PRESETS, 'fbgemm');
  const clash = PRESET_SETS.find((f) => hasFlag(a, f));
  if (clash) throw new UsageError(`--preset ${p} sets --${clash} itself: give one or the other`);
  const fmt = flagValue(a, 'format');
  if (fmt !== undefined && fmt !== 'qdq') throw new UsageError(`--preset ${p} is static QDQ: --format ${fmt} is not`);
  return p;
}

export function configFromFlags(a: Args): QuantConfig {
  const preset = presetFlag(a);
  const config = choicesFromFlags(a);
  return preset ? applyPreset(config, preset) : config;
}

/**
 * A TFLite int8 file is int8 throughout by TFLite's int8 specification (activations int8 asymmetric per
 * tensor, Conv weights int8 symmetric per channel, no node left float): choices it cannot hold are refused,
 * never written as something else (nor checked through a QDQ twin that holds them).
 */
function refuseOutsideTfliteInt8(a: Args, adt: string, wdt: string): void {
  const given = [
    ...(adt !== 'int8' ? [`--activations ${adt}`] : []),
    ...(wdt !== 'int8' ? [`--weights ${wdt}`] : []),
    ...(['symmetric-activations', 'per-tensor'] as const).filter((f) => hasFlag(a, f)).map((f) => `--${f}`),
    ...(a.flags.get('exclude')?.length ? ['--exclude'] : []),
  ];
  if (given.length)
    throw new UsageError(
      `${given.join(', ')}: a TFLite int8 file is int8 throughout by TFLite's int8 specification (activations int8 asymmetric per tensor, Conv weights int8 symmetric per channel, no node kept float); give --format qdq for ${given.length === 1 ? 'it' : 'them'}`,
    );
}

function choicesFromFlags(a: Args): QuantConfig {
  const fmt = choiceFlag(a, 'format', Object.keys(CLI_FORMATS) as (keyof typeof CLI_FORMATS)[], 'qdq');
  const kind = CLI_FORMATS[fmt];
  const wdt = choiceFlag(a, 'weights', ['int8', 'uint8', 'int4', 'uint4'] as const, defaultWeightDtype(kind));
  const adt = choiceFlag(a, 'activations', ['int8', 'uint8', 'int16', 'uint16'] as const, 'int8');
  const block = numberFlag(a, 'block-size');
  if (block !== undefined && (!Number.isInteger(block) || block < 16 || (block & (block - 1)) !== 0))
    throw new UsageError(`--block-size ${block}: a power of two, at least 16`);
  if (hasFlag(a, 'per-channel') && hasFlag(a, 'per-tensor'))
    throw new UsageError('--per-channel and --per-tensor exclude each other');
  const variantId = flagValue(a, 'method') ?? 'minmax';
  const variant = methodVariant(variantId);
  if (!variant)
    throw new UsageError(`--method ${variantId}: expected one of ${METHOD_VARIANTS.map((v) => v.id).join(', ')}`);
  const percentile = numberFlag(a, 'percentile');
  const algorithm = choiceFlag(a, 'algorithm', ['rtn', 'gptq', 'adaround'] as const, 'rtn');
  if (algorithm !== 'rtn' && kind !== 'dq' && kind !== 'matmulnbits')
    throw new UsageError(
      `--algorithm ${algorithm} rounds weight-only exports: add --format weight-only or matmulnbits`,
    );
  const damp = numberFlag(a, 'gptq-damp');
  if (damp !== undefined && !(damp >= 0 && damp <= 1))
    throw new UsageError(`--gptq-damp ${damp}: a fraction in [0, 1]`);
  const gblock = numberFlag(a, 'gptq-block');
  if (gblock !== undefined && !(Number.isInteger(gblock) && gblock >= 1))
    throw new UsageError(`--gptq-block ${gblock}: a whole number of columns, at least 1`);
  const iters = numberFlag(a, 'adaround-iters');
  if (iters !== undefined && !(Number.isInteger(iters) && iters >= 1))
    throw new UsageError(`--adaround-iters ${iters}: a whole number, at least 1`);
  const gptqOptions = {
    ...(damp !== undefined ? { percDamp: damp } : {}),
    ...(gblock !== undefined ? { blockSize: gblock } : {}),
    ...(hasFlag(a, 'act-order') ? { actOrder: true } : {}),
  };
  const alpha = numberFlag(a, 'smoothquant-alpha');
  if (alpha !== undefined && !(alpha >= 0 && alpha <= 1))
    throw new UsageError(`--smoothquant-alpha ${alpha}: a fraction in [0, 1]`);
  if (alpha !== undefined && !hasFlag(a, 'smoothquant'))
    throw new UsageError('--smoothquant-alpha is an option of --smoothquant: add it');
  if (hasFlag(a, 'bias-correction') && kind !== 'qdq' && kind !== 'dq')
    throw new UsageError(
      '--bias-correction corrects the shift quantized weights cause: static QDQ or --format weight-only',
    );
  const algorithms = {
    ...(Object.keys(gptqOptions).length ? { gptq: gptqOptions } : {}),
    ...(iters !== undefined ? { adaround: { iterations: iters } } : {}),
    ...(hasFlag(a, 'equalize') ? { equalize: true } : {}),
    ...(hasFlag(a, 'smoothquant') ? { smoothquant: alpha !== undefined ? { alpha } : {} } : {}),
  };
  let form = defaultForm(kind, {
    weightDtype: wdt,
    ...(kind !== 'qdq' && block !== undefined ? { blockSize: block } : {}),
  });
  if (kind === 'tflite-int8') refuseOutsideTfliteInt8(a, adt, wdt);
  if (kind === 'tflite-int8' && form.kind === 'tflite')
    form = {
      ...form,
      io: choiceFlag(a, 'tflite-io', ['int8', 'float'] as const, 'float'),
      ...(hasFlag(a, 'tflite-fc-per-channel') ? { fullyConnectedPerChannel: true } : {}),
    };
  else if (flagValue(a, 'tflite-io')) throw new UsageError('--tflite-io is for --format tflite (int8)');
  else if (hasFlag(a, 'tflite-fc-per-channel'))
    throw new UsageError('--tflite-fc-per-channel is for --format tflite (int8)');
  return {
    ...DEFAULT_CONFIG,
    form,
    ...(Object.keys(algorithms).length ? { algorithms } : {}),
    activations: {
      ...DEFAULT_CONFIG.activations,
      dtype: adt,
      symmetric: hasFlag(a, 'symmetric-activations'),
      ...(flagValue(a, 'method') !== undefined ? variantFields(variant) : {}),
      ...(percentile !== undefined ? { percentile } : {}),
      ...(hasFlag(a, 'reduce-range') ? { reduceRange: true } : {}),
      ...(flagValue(a, 'convention') ? { convention: conventionFlag(a) } : {}),
    },
    weights: {
      ...DEFAULT_CONFIG.weights,
      // --weights is the form's dtype for weight-only forms, and static QDQ's weights otherwise
      dtype: kind === 'qdq' ? wdt : DEFAULT_CONFIG.weights.dtype,
      perChannel: !hasFlag(a, 'per-tensor'),
      ...(kind === 'qdq' && block !== undefined ? { blockSize: block } : {}),
      // PyTorch's rules hold for its weight observers too (full [-128, 127]: scale max|w| / 127.5)
      ...(flagValue(a, 'convention') ? { convention: conventionFlag(a) } : {}),
      ...(algorithm !== 'rtn' ? { algorithm } : {}),
      ...(hasFlag(a, 'bias-correction') ? { biasCorrection: true } : {}),
    },
    excludeNodes: a.flags.get('exclude') ?? [],
  };
}
