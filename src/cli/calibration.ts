/** Calibration on onnxruntime-node for the command line (the ranges come from core/calibratedRanges, as the page's). */
import type { QuantConfig } from '../core/config';
import { needsTorchHistograms } from '../core/presets';
import { planCalibrationFetches, withExtraOutputs, type ModelProto } from '../onnx';
import { calibrate, type StatsMap } from '../runtime/calibrate';
import { nodeFoldWorker } from '../runtime/foldWorkerNode';
import { materializeSample, sampleSource } from '../data/samples';
import { nodeOrt } from '../runtime/ortNode';
import { availableParallelism, freemem } from 'node:os';
import { graphTensors, isExternal, storedByteLength } from '../onnx';
import { calibrateInPasses } from '../runtime/calibrationPasses';
import { planPageCalibration } from '../runtime/pageMemory';
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
  /** --max-memory in bytes: what the run may use; by default the memory the machine has free now. */
  maxMemoryBytes?: number,
  /** Which way the statistics were folded, in words (runtime/foldWorker.ts). */
  onFoldPath?: (note: string) => void,
): Promise<StatsMap> {
  // Before any session: the page's estimate (runtime/pageMemory.ts) against this machine's memory.
  // Refused in words with the numbers (a coded error: exit 1, nothing written), or split into passes.
  const budget = maxMemoryBytes ?? freemem();
  const plan = calibrationMemoryPlan(prepared, tensors, samples, budget, passes);
  if (plan.passes.length > 1) console.error(plan.note);
  const bar = quiet ? null : progressBar('calibrating');
  const source = sampleSource(samples);
  const opts = {
    mode,
    torchHistograms: config !== undefined && needsTorchHistograms(config),
    chain,
    onProgress: (done: number, total: number) => bar?.update(done, total),
    // onnxruntime-node's run holds the calling thread too (like the WASM one): the fold overlaps the
    // next run from a worker (dist-cli/foldWorker.mjs, beside the built command), when a second
    // sample fits beside the plan's estimate. Its intra-op threads are onnxruntime's choice, so no
    // inferenceThreads is said: on 2 cores the worker measured 6.6-7.0 s for det's 16 documents (the
    // whole command) against 6.7-9.4 s in this thread, alternated
    foldWorker: {
      spawn: nodeFoldWorker(new URL('./foldWorker.mjs', import.meta.url)),
      spareBytes: budget - plan.peakBytes,
      cores: availableParallelism(), // one core: the fold stays in this thread (foldWorker.ts)
    },
    onFoldPath,
  };
  try {
    if (plan.passes.length > 1) {
      return await calibrateInPasses(
        nodeOrt,
        (subset) => createNodeSessionForModel(withExtraOutputs(prepared, subset)),
        source,
        plan.passes,
        opts,
      );
    }
    // the run fetches only the tensors the fold cannot recompute from them (onnx/derivedTensors.ts)
    const recompute = planCalibrationFetches(prepared, tensors);
    const session = await createNodeSessionForModel(withExtraOutputs(prepared, recompute.fetched));
    try {
      return await calibrate(nodeOrt, session, source, tensors, { ...opts, recompute });
    } finally {
      await session.release();
    }
  } finally {
    bar?.stop();
  }
}

/**
 * The memory a calibration run needs on onnxruntime-node, the page's estimate with this process's
 * copies of the weights: a model with external data is opened by path (onnxruntime reads its data
 * files itself: one copy); an inline one is held three times (the file's bytes the model views, the
 * encoded calibration model, onnxruntime's copy). Tensor sizes from the first sample's shapes.
 */
export function calibrationMemoryPlan(
  prepared: ModelProto,
  tensors: readonly string[],
  samples: ReturnType<typeof loadSamples>,
  budgetBytes: number,
  passes = 1,
) {
  let weightBytes = 0;
  let external = false;
  for (const t of graphTensors(prepared.graph!)) {
    weightBytes += storedByteLength(t);
    external ||= isExternal(t);
  }
  const first = samples[0] ? materializeSample(samples[0]) : {};
  const dims = Object.fromEntries(Object.entries(first).map(([k, t]) => [k, t.dims]));
  return planPageCalibration(prepared, weightBytes, tensors, dims, budgetBytes, {
    weightCopies: external ? 1 : 3,
    passes,
    advice: `Give more with --max-memory (e.g. --max-memory 16G) on a machine that has it, or export a weight-only form (no calibration)`,
  });
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
    return await roundWeights(nodeOrt, prepared, config, sampleSource(samples), {
      onProgress: (p) =>
        bar?.update(p.phase === 'moments' ? p.done : samples.length + p.done, samples.length + p.total),
    });
  } finally {
    bar?.stop();
  }
}
