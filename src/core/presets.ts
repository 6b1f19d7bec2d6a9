/**
 * PyTorch's backends' default post-training qconfigs as Quantscope choices, so that a model exported
 * from an eager PyTorch model and quantized here gets the scales PyTorch would give it.
 * torch.ao.quantization.get_default_qconfig(backend) in PyTorch 1.13 (qconfig.py; observer.py):
 *   fbgemm:  activation HistogramObserver(reduce_range=True),  weight default_per_channel_weight_observer
 *   x86:     activation HistogramObserver(reduce_range=True),  weight default_per_channel_weight_observer
 *   qnnpack: activation HistogramObserver(reduce_range=False), weight default_weight_observer
 * HistogramObserver: quint8, per_tensor_affine, 2048 bins, upsample_rate 128 (core/torchHistogram.ts).
 * default_per_channel_weight_observer = PerChannelMinMaxObserver(qint8, per_channel_symmetric, ch_axis 0);
 * default_weight_observer = MinMaxObserver(qint8, per_tensor_symmetric). Both take the full [-128, 127]
 * (scale max|w| / 127.5), eps 2^-23 (core/pytorch.ts). PyTorch keeps the bias float and adds it in
 * the kernel; the QDQ file stores it int32 at input_scale × weight_scale, with no scale adjustment.
 * The QDQ pairs sit on the tensors eager PyTorch observes (placement `pytorch-eager`).
 */
import type { QuantConfig } from './config';

export type PytorchPreset = 'fbgemm' | 'x86' | 'qnnpack';

export const PYTORCH_PRESETS: readonly PytorchPreset[] = ['fbgemm', 'x86', 'qnnpack'];

/** The choices a preset sets (every field, so that it never inherits another configuration's). */
export function presetConfig(preset: PytorchPreset): Pick<QuantConfig, 'activations' | 'weights' | 'placement'> {
  const reduceRange = preset !== 'qnnpack';
  return {
    placement: 'pytorch-eager',
    activations: {
      dtype: 'uint8',
      symmetric: false,
      method: 'mse',
      percentileTails: 'abs',
      entropy: 'onnxruntime',
      entropyBins: 2048,
      movingAverage: 'onnxruntime',
      mseHistogram: 'pytorch',
      convention: 'pytorch',
      reduceRange,
    },
    weights: {
      dtype: 'int8',
      symmetric: true,
      perChannel: preset !== 'qnnpack',
      adjustScaleForInt32Bias: false,
      blockSize: null,
      convention: 'pytorch',
    },
  };
}

/**
 * A configuration with a preset applied at model level: its op-type, tensor and node choices are
 * cleared (they would override the preset's); the form, exclusions and anything else are kept.
 */
export function applyPreset(config: QuantConfig, preset: PytorchPreset): QuantConfig {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { opTypes, tensors, nodes, ...rest } = config;
  return { ...rest, ...presetConfig(preset) };
}

/** The preset a configuration's model-level choices equal, if any (the page's menu shows it). */
export function presetOf(config: QuantConfig): PytorchPreset | null {
  for (const p of PYTORCH_PRESETS) {
    const want = presetConfig(p);
    const same = (a: object, b: object) => Object.entries(b).every(([k, v]) => (a as Record<string, unknown>)[k] === v);
    if (
      config.placement === want.placement &&
      same(config.activations, want.activations) &&
      same(config.weights, want.weights)
    )
      return p;
  }
  return null;
}

/** Whether calibration must keep PyTorch HistogramObserver's own histograms for this configuration. */
export function needsTorchHistograms(config: QuantConfig): boolean {
  const levels = [
    config.activations,
    ...Object.values(config.opTypes ?? {}).map((o) => o.activations),
    ...Object.values(config.tensors ?? {}).map((o) => o.activations),
  ];
  return levels.some((a) => a?.mseHistogram === 'pytorch');
}
