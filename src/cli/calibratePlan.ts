/**
 * Calibration of a plan's activations, shared by calibrate and quantize: refused with a coded error
 * when there is nothing to calibrate, else run as --mode, --calibration-passes and --max-memory say.
 */
import type { QuantConfig } from '../core/config';
import { QuantscopeError } from '../core/errors';
import { calibrationTensors, fixableInputs, whyNothingToCalibrate, type ModelProto, type QuantPlan } from '../onnx';
import type { StatsMap } from '../runtime/calibrate';
import type { Chain } from '../runtime/recurrent';
import { choiceFlag, type Args } from './args';
import { runCalibration } from './calibration';
import { calibrationPasses, maxMemory } from './calibrationFlags';
import type { loadSamples } from './data';

export interface PlanToCalibrate {
  /** The model file (named in the error). */
  readonly path: string;
  /** The model as read (the inputs a fix could fold control flow on). */
  readonly model: ModelProto;
  readonly prepared: ModelProto;
  readonly plan: QuantPlan;
  readonly fixed: Readonly<Record<string, number>>;
  readonly samples: ReturnType<typeof loadSamples>;
  readonly config: QuantConfig;
  readonly chain: readonly Chain[];
  /** No progress bar. */
  readonly quiet: boolean;
}

export async function calibratePlan(
  a: Args,
  p: PlanToCalibrate,
): Promise<{ mode: 'streaming' | 'onnxruntime-exact'; stats: StatsMap; statisticsFold: string }> {
  const why = whyNothingToCalibrate(p.prepared, p.plan, fixableInputs(p.model), p.fixed);
  if (why) throw new QuantscopeError('NO_STATISTICS', `${p.path}: ${why}`);
  const mode = choiceFlag(a, 'mode', ['streaming', 'onnxruntime-exact'] as const, 'streaming');
  let statisticsFold = 'statistics folded one sample at a time';
  const stats = await runCalibration(
    p.prepared,
    calibrationTensors(p.prepared, p.plan),
    p.samples,
    mode,
    p.quiet,
    p.config,
    p.chain,
    calibrationPasses(a),
    maxMemory(a),
    (note) => (statisticsFold = note),
  );
  return { mode, stats, statisticsFold };
}
