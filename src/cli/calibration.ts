/** Calibration on onnxruntime-node for the command line (the ranges come from core/calibratedRanges, as the page's). */
import type { QuantConfig } from '../core/config';
import { needsTorchHistograms } from '../core/presets';
import { withExtraOutputs, type ModelProto } from '../onnx';
import { calibrate, type StatsMap } from '../runtime/calibrate';
import { materializeSample } from '../data/samples';
import { nodeOrt } from '../runtime/ortNode';
import { createNodeSessionForModel } from '../runtime/nodeModelSession';
import type { Chain } from '../runtime/recurrent';
import { roundWeights, type RoundingResult } from '../runtime/weightRounding';
import type { loadSamples } from './data';
import { progressBar } from './progress';

export async function runCalibration(
  prepared: ModelProto,
  tensors: readonly string[],
  samples: ReturnType<typeof loadSamples>,
  mode: 'streaming' | 'onnxruntime-exact',
  quiet: boolean,
  config?: QuantConfig,
  chain: readonly Chain[] = [],
): Promise<StatsMap> {
  const session = await createNodeSessionForModel(withExtraOutputs(prepared, tensors));
  const bar = quiet ? null : progressBar('calibrating');
  try {
    return await calibrate(
      nodeOrt,
      session,
      { count: samples.length, feeds: async (i) => materializeSample(samples[i]!) },
      tensors,
      {
        mode,
        torchHistograms: config !== undefined && needsTorchHistograms(config),
        chain,
        onProgress: (done, total) => bar?.update(done, total),
      },
    );
  } finally {
    bar?.stop();
    await session.release();
  }
}

/** GPTQ/AdaRound on onnxruntime-node: the page worker's engine, with a progress bar. */
export async function runWeightRounding(
  prepared: ModelProto,
  config: QuantConfig,
  samples: ReturnType<typeof loadSamples>,
  quiet: boolean,
): Promise<RoundingResult> {
  const bar = quiet ? null : progressBar('rounding weights');
  try {
    return await roundWeights(
      nodeOrt,
      prepared,
      config,
      { count: samples.length, feeds: async (i) => materializeSample(samples[i]!) },
      {
        onProgress: (p) =>
          bar?.update(p.phase === 'moments' ? p.done : samples.length + p.done, samples.length + p.total),
      },
    );
  } finally {
    bar?.stop();
  }
}
