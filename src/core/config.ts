/**
 * The quantization configuration: one type for every choice, at three levels: the model default,
 * per op type, and per tensor (activations) or per node (weights), plus exclusions. Keys are the
 * prepared graph's op types, tensor names and node names. Later choices (methods, forms, a recipe
 * file, the CLI) extend this type.
 *
 * Defaults follow onnxruntime's quantize_static (QDQ format; activations int8 asymmetric; weights
 * int8 symmetric; int32 bias with scale input_scale * weight_scale and no zero point), as captured
 * in the reference kit (ORT 1.19-1.20 sources), except that weights are per-channel by default
 * where ORT's default is per-tensor: per-channel is what keeps real models intact.
 */
import type { Convention } from './conventions';
import type { IntDType } from './dtype';
import type { Range } from './methods/percentile';
import {
  checkManualRange,
  methodRange,
  type MethodParams,
  type MethodStats,
  type RangeMethod,
} from './methods/rangeMethod';

export interface ActivationConfig extends MethodParams {
  readonly dtype: IntDType;
  readonly symmetric: boolean;
  /** Where the range comes from (default min-max, onnxruntime's default). */
  readonly method?: RangeMethod;
  /** Whose scale/zero-point rules (default onnxruntime's): see core/conventions.ts. */
  readonly convention?: Convention;
  /** Half the integer range (for hardware whose int8 accumulation would otherwise overflow). */
  readonly reduceRange?: boolean;
  /** A range set by hand (tensor level), used instead of the method's. */
  readonly range?: { readonly rmin: number; readonly rmax: number };
}

export interface WeightConfig {
  readonly dtype: IntDType;
  readonly symmetric: boolean;
  readonly perChannel: boolean;
  /** Enlarge a weight scale when its int32 bias would otherwise overflow (ORT >= 1.20's default). */
  readonly adjustScaleForInt32Bias: boolean;
  /**
   * Scales per block of this many values along the reduction axis (MatMul and Gemm weights;
   * DequantizeLinear-21 block_size). The bias then stays float: no single scale covers its row.
   */
  readonly blockSize?: number | null;
  /** Whose scale rules and rounding (default onnxruntime's): see core/weights.ts. */
  readonly convention?: Convention;
  /**
   * How weights are rounded onto their grid (weight-only forms): to nearest (default), GPTQ or AdaRound
   * (core/algorithms; both need calibration data). Settable per model, op type and node.
   */
  readonly algorithm?: WeightAlgorithm;
  /**
   * Empirical bias correction (core/algorithms/biasCorrection.ts): the mean output shift that quantizing
   * this weight causes on the calibration data, subtracted from the bias. Static QDQ and weight-only
   * DequantizeLinear forms; settable per model, op type and node.
   */
  readonly biasCorrection?: boolean;
  /**
   * Cross-layer equalization of the pair this node starts (core/algorithms/choices.ts: a Conv/Gemm
   * owns the pair it feeds, through Relu/PRelu/LeakyRelu or directly). Per op type and node; unset
   * falls back to `algorithms.equalize`.
   */
  readonly equalize?: boolean;
  /** SmoothQuant of this MatMul/Gemm's input (per op type and node; unset: `algorithms.smoothquant`). */
  readonly smoothquant?: boolean;
  /** This node's SmoothQuant alpha (unset: `algorithms.smoothquant.alpha`, else 0.5). */
  readonly smoothquantAlpha?: number;
}

export type WeightAlgorithm = 'rtn' | 'gptq' | 'adaround';

/** Options of the weight-rounding algorithms (model level). */
export interface AlgorithmOptions {
  /** GPTQ: damping fraction (0.01), lazy-update block (128), act-order (false). */
  readonly gptq?: { readonly percDamp?: number; readonly blockSize?: number; readonly actOrder?: boolean };
  /** AdaRound: iterations per layer and Adam's learning rate (defaults measured: runtime/weightRounding.ts). */
  readonly adaround?: { readonly iterations?: number; readonly learningRate?: number };
  /** Cross-layer equalization of Conv/Gemm pairs before calibration (onnx/passes/equalize.ts). */
  readonly equalize?: boolean;
  /** SmoothQuant before calibration (runtime/modelAlgorithms.ts); alpha defaults to 0.5. */
  readonly smoothquant?: { readonly alpha?: number };
}

export interface Override {
  readonly activations?: Partial<ActivationConfig>;
  readonly weights?: Partial<WeightConfig>;
  /** Keep the matching nodes float. */
  readonly exclude?: boolean;
}

/**
 * The form of the exported file (onnx/forms): static QDQ (calibrated activations), weight-only
 * (DequantizeLinear or MatMulNBits), dynamic (activations quantized per run), or a float format.
 */
export type ExportForm =
  | { readonly kind: 'qdq' }
  | {
      readonly kind: 'weight-only';
      readonly format: 'dq' | 'matmulnbits';
      readonly dtype: IntDType;
      readonly symmetric: boolean;
      /** null: per output channel (DequantizeLinear only). */
      readonly blockSize: number | null;
      readonly ops?: readonly string[];
    }
  | { readonly kind: 'dynamic'; readonly ops?: readonly string[] }
  | { readonly kind: 'float16'; readonly keepIoTypes: boolean; readonly blockList?: readonly string[] }
  | { readonly kind: 'bfloat16' }
  | { readonly kind: 'q4f16'; readonly blockSize: number }
  | {
      /** A .tflite file (onnx/forms/tflite): int8 from the calibrated ranges, or float16 weights, or float32. */
      readonly kind: 'tflite';
      readonly precision: 'int8' | 'float16' | 'float32';
      /** int8: integer inputs and outputs (microcontrollers) or float edges (default). */
      readonly io?: 'int8' | 'float';
      /** FULLY_CONNECTED weights per output channel (default per tensor). */
      readonly fullyConnectedPerChannel?: boolean;
    };

/**
 * Where static QDQ puts its pairs (onnx/plan.ts). `onnxruntime` (default): a Relu/Clip shares its
 * producer's range (only its output is quantized) and graph outputs stay float, as quantize_static
 * does. `pytorch-eager`: the tensors eager PyTorch observes: a producer's output before an unfused
 * Relu/Clip gets its own range (the Relu/Clip output is re-quantized with it, as quantized relu keeps
 * its input's parameters), and the model's outputs are quantized too (the last module's observer).
 */
export type QdqPlacement = 'onnxruntime' | 'pytorch-eager';

export interface QuantConfig {
  /** Default static QDQ. */
  readonly form?: ExportForm;
  /** Default onnxruntime's. */
  readonly placement?: QdqPlacement;
  readonly algorithms?: AlgorithmOptions;
  readonly activations: ActivationConfig;
  readonly weights: WeightConfig;
  /** By op type (Conv, MatMul, ...): weights of those nodes, activations they produce, exclusion. */
  readonly opTypes?: Readonly<Record<string, Override>>;
  /** By activation tensor name: its settings, or `exclude` to keep it float (no Q/DQ on it). */
  readonly tensors?: Readonly<Record<string, Pick<Override, 'activations' | 'exclude'>>>;
  /** By node name: its weights, or exclusion. */
  readonly nodes?: Readonly<Record<string, Pick<Override, 'weights' | 'exclude'>>>;
  /** Node names kept in float. */
  readonly excludeNodes: readonly string[];
}

/** Bins of the calibration histograms (onnxruntime's num_bins for its histogram calibrators is 2048). */
export const HISTOGRAM_BINS = 2048;

export const DEFAULT_CONFIG: QuantConfig = {
  activations: { dtype: 'int8', symmetric: false },
  weights: { dtype: 'int8', symmetric: true, perChannel: true, adjustScaleForInt32Bias: true },
  excludeNodes: [],
};

/** An override's set fields only: an absent or undefined field falls through to the next level. */
function defined<T extends object>(o: Partial<T> | undefined): Partial<T> {
  return o ? (Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>) : {};
}

/** An activation tensor's settings: tensor override, then its producer's op type, then the default. */
export function activationConfigFor(config: QuantConfig, tensor: string, producerOpType?: string): ActivationConfig {
  return {
    ...config.activations,
    ...defined(producerOpType ? config.opTypes?.[producerOpType]?.activations : undefined),
    ...defined(config.tensors?.[tensor]?.activations),
  };
}

/** A node's weight settings: node override, then its op type, then the default. */
export function weightConfigFor(config: QuantConfig, node: string, opType: string): WeightConfig {
  return {
    ...config.weights,
    ...defined(config.opTypes?.[opType]?.weights),
    ...defined(config.nodes?.[node]?.weights),
  };
}

export function isExcluded(config: QuantConfig, node: string, opType: string): boolean {
  return (
    config.excludeNodes.includes(node) ||
    config.nodes?.[node]?.exclude === true ||
    config.opTypes?.[opType]?.exclude === true
  );
}

/**
 * The range a tensor gets under its settings: a manual range when one is set (checked: finite, not
 * inverted), otherwise its method's over the kept statistics. The explorer and the export both call
 * this, so the file holds exactly what the page shows.
 */
export function activationRange(stats: MethodStats, act: ActivationConfig): Range {
  if (act.range) return checkManualRange(act.range.rmin, act.range.rmax).range;
  return methodRange(stats, act.method ?? 'minmax', act);
}
