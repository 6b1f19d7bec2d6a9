/** Calibration on onnxruntime-node for the command line (the ranges come from core/calibratedRanges, as the page's). */
import type { QuantConfig } from '../core/config';
import { needsTorchHistograms } from '../core/presets';
import { withExtraOutputs, type ModelProto } from '../onnx';
import { calibrate, type StatsMap } from '../runtime/calibrate';
import { materializeSample } from '../data/samples';
import { nodeOrt } from '../runtime/ortNode';
import { calibrateInPasses, planCalibrationPasses } from '../runtime/calibrationPasses';
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
  /** --calibration-passes: that many sessions, each outputting a subset of the tensors (runtime/calibrationPasses). */
  passes = 1,
): Promise<StatsMap> {
  const bar = quiet ? null : progressBar('calibrating');
  const source = { count: samples.length, feeds: async (i: number) => materializeSample(samples[i]!) };
  const opts = {
    mode,
    torchHistograms: config !== undefined && needsTorchHistograms(config),
    chain,
    onProgress: (done: number, total: number) => bar?.update(done, total),
  };
  try {
    if (passes > 1) {
      // sizes do not matter for a forced split: the passes are asked for
      const plan = planCalibrationPasses({
        weightBytes: 0,
        activationBytes: new Map(tensors.map((t) => [t, 1])),
        budgetBytes: Number.MAX_SAFE_INTEGER,
        passes,
      });
      console.error(plan.note);
      return await calibrateInPasses(
        nodeOrt,
        (subset) => createNodeSessionForModel(withExtraOutputs(prepared, subset)),
        source,
        plan.passes,
        opts,
      );
    }
    const session = await createNodeSessionForModel(withExtraOutputs(prepared, tensors));
    try {
      return await calibrate(nodeOrt, session, source, tensors, opts);
    } finally {
      await session.release();
    }
  } finally {
    bar?.stop();
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
