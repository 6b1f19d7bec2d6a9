/** What sensitivity and tuning run against (one switchboard session), progress reports, and evaluating one config. */
import type { QuantConfig } from '../../core/config';
import type { QuantGroup } from '../../onnx/groups';
import type { Switchboard } from '../../onnx/switchboard';
import type { Evaluator } from './evaluate';
import { estimatedBytes, settingFor, type SettingContext } from './setting';

export interface TuneContext {
  readonly sb: Switchboard;
  readonly evaluator: Evaluator;
  readonly setting: SettingContext;
  readonly groups: readonly QuantGroup[];
  readonly baseConfig: QuantConfig;
  /** Bytes of the float model as written. */
  readonly floatBytes: number;
  /**
   * Bytes of the prepared model (what the exports start from: a folded If branch, fixed inputs): the
   * base of the size estimates, which the float file overstates where preparation dropped weights
   * (Silero's 8 kHz branch is 44% of its file). Absent: floatBytes.
   */
  readonly preparedBytes?: number;
}

export interface Progress {
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

/** Metrics and estimated file size of one configuration. */
export async function evalConfig(ctx: TuneContext, config: QuantConfig, signal?: AbortSignal) {
  const setting = settingFor(ctx.sb, ctx.setting, config);
  const metrics = await ctx.evaluator.evaluate(setting, signal);
  return { metrics, bytes: estimatedBytes(ctx.sb, ctx.preparedBytes ?? ctx.floatBytes, setting) };
}
