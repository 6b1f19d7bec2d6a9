/** One-pass and forced multi-pass calibration of the same model and samples, on onnxruntime-node. */
import { DEFAULT_CONFIG } from '../../src/core/config';
import { calibrationTensors, planQuantization, prepareModel, withExtraOutputs, type ModelProto } from '../../src/onnx';
import { calibrate, type CalibrationSource, type StatsMap } from '../../src/runtime/calibrate';
import { calibrateInPasses, planCalibrationPasses } from '../../src/runtime/calibrationPasses';
import { createNodeSessionForModel } from '../../src/runtime/nodeModelSession';
import { nodeOrt } from '../../src/runtime/ortNode';

/** Graph optimizations off in both: fusions differ with the outputs asked for (calibrationPasses.ts). */
const EXACT = { graphOptimizationLevel: 'disabled' } as const;

export async function onePassAndPasses(
  model: ModelProto,
  source: CalibrationSource,
  passes: number,
): Promise<{ one: StatsMap; multi: StatsMap; passCount: number; tensors: string[]; sessions: number }> {
  const prepared = prepareModel(model).model;
  const tensors = calibrationTensors(prepared, planQuantization(prepared, DEFAULT_CONFIG));
  const session = await createNodeSessionForModel(withExtraOutputs(prepared, tensors), EXACT);
  let one: StatsMap;
  try {
    one = await calibrate(nodeOrt, session, source, tensors);
  } finally {
    await session.release();
  }
  // sizes do not matter for a forced split: the budget is ample, the passes are asked for
  const plan = planCalibrationPasses({
    weightBytes: 0,
    activationBytes: new Map(tensors.map((t) => [t, 1])),
    budgetBytes: 1e15,
    passes,
  });
  let sessions = 0;
  const multi = await calibrateInPasses(
    nodeOrt,
    async (subset) => {
      sessions++;
      return createNodeSessionForModel(withExtraOutputs(prepared, subset), EXACT);
    },
    source,
    plan.passes,
  );
  return { one, multi, passCount: plan.passes.length, tensors, sessions };
}
