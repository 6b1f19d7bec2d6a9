/** What sensitivity and tuning run against (one switchboard session), progress reports, and evaluating one config. */
import type { QuantConfig } from '../../core/config';
import type { QuantGroup } from '../../onnx/groups';
import type { Switchboard } from '../../onnx/switchboard';
import type { EvalOptions, Evaluator } from './evaluate';
import { estimatedBytes, settingFor, type SettingContext, type SwitchSetting } from './setting';

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

/** A configuration's switchboard setting and its estimated file size: no run. */
export function settingOf(ctx: TuneContext, config: QuantConfig): { setting: SwitchSetting; bytes: number } {
  const setting = settingFor(ctx.sb, ctx.setting, config);
  return { setting, bytes: estimatedBytes(ctx.sb, ctx.preparedBytes ?? ctx.floatBytes, setting) };
}

/**
 * A key that two configurations share exactly when the switchboard computes the same thing for both
 * (e.g. "minmax everywhere" where min-max is already the default): their metrics are the same.
 */
export function settingKey(s: SwitchSetting): string {
  const a = [...s.activations].map(([t, v]) => `${t}:${v.dtype}:${v.scale}:${v.zeroPoint}`).sort();
  const w = [...s.weights].map(([n, k]) => `${n}:${k}`).sort();
  return `${a.join('|')}#${w.join('|')}`;
}

/** Metrics and estimated file size of one configuration. */
export async function evalConfig(ctx: TuneContext, config: QuantConfig, signal?: AbortSignal, opts?: EvalOptions) {
  const { setting, bytes } = settingOf(ctx, config);
  const metrics = await ctx.evaluator.evaluate(setting, signal, opts);
  return { metrics, bytes };
}
