/**
 * The calibration methods as a user picks them: each a method with the parameters that make it one
 * tool's algorithm, under one id. The page, the recipe and the command line name methods by these ids.
 */
import type { MethodParams, RangeMethod } from './rangeMethod';

export interface MethodVariant {
  readonly id: string;
  readonly label: string;
  /** A few characters, for labels on a chart. */
  readonly short: string;
  readonly method: RangeMethod;
  /** Every parameter the variant fixes, so that it never inherits another level's. */
  readonly params: Required<
    Pick<MethodParams, 'percentileTails' | 'entropy' | 'entropyBins' | 'movingAverage' | 'mseHistogram'>
  >;
  readonly note: string;
}

const BASE: MethodVariant['params'] = {
  percentileTails: 'abs',
  entropy: 'onnxruntime',
  entropyBins: 2048,
  movingAverage: 'onnxruntime',
  mseHistogram: 'quantscope',
};

export const METHOD_VARIANTS: readonly MethodVariant[] = [
  {
    id: 'minmax',
    short: 'min-max',
    label: 'min-max',
    method: 'minmax',
    params: BASE,
    note: "onnxruntime's default: the whole observed range, no clipping",
  },
  {
    id: 'moving-average',
    short: 'MA',
    label: 'moving average (onnxruntime)',
    method: 'moving-average',
    params: BASE,
    note: "the mean of each sample's min and max (onnxruntime, one calibration pass)",
  },
  {
    id: 'moving-average-pytorch',
    short: 'MA-pt',
    label: 'moving average (PyTorch EMA)',
    method: 'moving-average',
    params: { ...BASE, movingAverage: 'pytorch' },
    note: 'PyTorch MovingAverageMinMaxObserver: EMA of each sample’s min and max, constant 0.01',
  },
  {
    id: 'percentile',
    short: 'p|x|',
    label: 'percentile |x| (onnxruntime)',
    method: 'percentile',
    params: BASE,
    note: "onnxruntime's default (symmetric=True): the p-th percentile of |x|, as ±",
  },
  {
    id: 'percentile-two-tailed',
    short: 'p±',
    label: 'percentile, both tails',
    method: 'percentile',
    params: { ...BASE, percentileTails: 'both' },
    note: 'cut (100 - p)/2 % from each tail of the value histogram (onnxruntime, symmetric=False)',
  },
  {
    id: 'entropy',
    short: 'KL',
    label: 'entropy KL (onnxruntime, 2048 bins)',
    method: 'entropy',
    params: BASE,
    note: "onnxruntime's KL search on 2048 bins, 128 quantized bins",
  },
  {
    id: 'entropy-ort-defaults',
    short: 'KL128',
    label: 'entropy KL (onnxruntime defaults, 128 bins)',
    method: 'entropy',
    params: { ...BASE, entropyBins: 128 },
    note: "onnxruntime's own defaults (128 bins, 128 quantized bins) leave a single candidate: the result is min-max",
  },
  {
    id: 'entropy-tensorrt',
    short: 'KL-TRT',
    label: 'entropy KL (TensorRT)',
    method: 'entropy',
    params: { ...BASE, entropy: 'tensorrt' },
    note: 'TensorRT: |x| histogram, candidates from bin 128, 128 levels, symmetric',
  },
  {
    id: 'mse',
    short: 'MSE',
    label: 'MSE / L2 (PyTorch)',
    method: 'mse',
    params: BASE,
    note: "PyTorch HistogramObserver's L2 search, on Quantscope's histogram",
  },
  {
    id: 'histogram-observer',
    short: 'HistObs',
    label: 'HistogramObserver (PyTorch, exact)',
    method: 'mse',
    params: { ...BASE, mseHistogram: 'pytorch' },
    note: "PyTorch 1.13's HistogramObserver as it is: its own histogram grown call by call, then its L2 search (the PyTorch presets' activations)",
  },
];

export function methodVariant(id: string): MethodVariant | undefined {
  return METHOD_VARIANTS.find((v) => v.id === id);
}

/** Which variant a resolved setting is (parameters not given take their defaults). */
export function variantOf(method: RangeMethod | undefined, params: MethodParams): MethodVariant {
  const m = method ?? 'minmax';
  const p: MethodVariant['params'] = {
    ...BASE,
    ...(Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Partial<
      MethodVariant['params']
    >),
  };
  return (
    METHOD_VARIANTS.find(
      (v) =>
        v.method === m &&
        (m !== 'percentile' || v.params.percentileTails === p.percentileTails) &&
        (m !== 'moving-average' || v.params.movingAverage === p.movingAverage) &&
        (m !== 'mse' || v.params.mseHistogram === p.mseHistogram) &&
        (m !== 'entropy' ||
          (v.params.entropy === p.entropy && (p.entropy === 'tensorrt' || v.params.entropyBins === p.entropyBins))),
    ) ?? METHOD_VARIANTS.find((v) => v.method === m)!
  );
}

/** The configuration fields a variant sets. */
export function variantFields(v: MethodVariant): { method: RangeMethod } & MethodVariant['params'] {
  return { method: v.method, ...v.params };
}

/** The fields that name a variant, all unset: a level that falls back to the one above for its method. */
export const NO_VARIANT_FIELDS = {
  method: undefined,
  percentileTails: undefined,
  entropy: undefined,
  entropyBins: undefined,
  movingAverage: undefined,
  mseHistogram: undefined,
} as const;
