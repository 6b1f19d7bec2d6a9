/**
 * The quantization configuration: one type for every choice, keyed by the prepared graph's node
 * names. Later choices (methods, forms, per-op-type and per-tensor overrides) extend this type.
 *
 * Defaults follow onnxruntime's quantize_static (QDQ format; activations int8 asymmetric; weights
 * int8 symmetric; int32 bias with scale input_scale * weight_scale and no zero point), as captured
 * in the reference kit (ORT 1.19-1.20 sources), except that weights are per-channel by default
 * where ORT's default is per-tensor: per-channel is what keeps real models intact.
 */
import type { IntDType } from './dtype';

export interface ActivationConfig {
  readonly dtype: IntDType;
  readonly symmetric: boolean;
}

export interface WeightConfig {
  readonly dtype: IntDType;
  readonly symmetric: boolean;
  readonly perChannel: boolean;
  /** Enlarge a weight scale when its int32 bias would otherwise overflow (ORT >= 1.20's default). */
  readonly adjustScaleForInt32Bias: boolean;
}

export interface QuantConfig {
  readonly activations: ActivationConfig;
  readonly weights: WeightConfig;
  /** Node names kept in float. */
  readonly excludeNodes: readonly string[];
}

export const DEFAULT_CONFIG: QuantConfig = {
  activations: { dtype: 'int8', symmetric: false },
  weights: { dtype: 'int8', symmetric: true, perChannel: true, adjustScaleForInt32Bias: true },
  excludeNodes: [],
};
