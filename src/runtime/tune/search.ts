/**
 * Sensitivity and tuning over one switchboard session.
 *
 * Sensitivity (AIMET's QuantAnalyzer per-layer analysis): for every group, the output metric with only
 * that group quantized, and with only that group kept float, against the float model's cached outputs.
 *
 * Tuning (in the manner of NNCF's accuracy control and Intel Neural Compressor's strategies): start from
 * the chosen configuration; try model-wide moves first (each calibration method everywhere, 16-bit
 * activations everywhere, 8-bit weights everywhere); then, from the best start of the same size, fix
 * groups in sensitivity order (the group whose float version helps most first), each with the cheapest
 * choice that improves the metric (16-bit activations or 8-bit weights, else keep float), until the
 * target holds; then try each fix back where the target still holds. Every configuration tried is
 * recorded (size against metric: the Pareto plot); the answer is the smallest file among those that
 * meet the target.
 */
import type { QuantConfig } from '../../core/config';
import type { IntDType } from '../../core/dtype';
import { QuantscopeError } from '../../core/errors';
import { variantFields, methodVariant } from '../../core/methods';
import { applyGroupChoice, choiceLabel, type GroupChoice, type QuantGroup } from '../../onnx/groups';
import type { Switchboard } from '../../onnx/switchboard';
import { checkCancelled, type EvalMetrics, type Evaluator } from './evaluate';
import { estimatedBytes, settingFor, type SettingContext } from './setting';

export type TargetMetric = 'top1' | 'sqnr' | 'task-drop';

export interface Target {
  readonly metric: TargetMetric;
  /** top1: agreement at least this (0..1); sqnr: dB at least this; task-drop: float task minus this at most. */
  readonly value: number;
}

/** The default: top-1 agreement >= 0.99 where the output has a class axis, else SQNR >= 30 dB. */
export function defaultTarget(ev: Pick<Evaluator, 'classes'>): Target {
  return ev.classes !== null ? { metric: 'top1', value: 0.99 } : { metric: 'sqnr', value: 30 };
}

export function targetLabel(t: Target): string {
  return t.metric === 'top1'
    ? `top-1 agreement >= ${t.value}`
    : t.metric === 'sqnr'
      ? `output SQNR >= ${t.value} dB`
      : `task metric drop <= ${t.value}`;
}

/** The metric a target reads, as a number where higher is better. */
export function targetValue(t: Target, m: EvalMetrics, floatTask: number | null): number {
  switch (t.metric) {
    case 'top1':
      if (m.top1 === null) throw new QuantscopeError('BAD_DATA', 'top-1 agreement needs an output with a class axis');
      return m.top1;
    case 'sqnr':
      return m.sqnrDb;
    case 'task-drop':
      if (m.task === null || floatTask === null)
        throw new QuantscopeError('BAD_DATA', 'no task metric for these samples');
      return m.task - floatTask;
  }
}

export function meets(t: Target, m: EvalMetrics, floatTask: number | null): boolean {
  const v = targetValue(t, m, floatTask);
  return t.metric === 'task-drop' ? v >= -t.value : v >= t.value;
}

export interface TuneContext {
  readonly sb: Switchboard;
  readonly evaluator: Evaluator;
  readonly setting: SettingContext;
  readonly groups: readonly QuantGroup[];
  readonly baseConfig: QuantConfig;
  /** Bytes of the float model as written. */
  readonly floatBytes: number;
}

export interface Progress {
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

export interface GroupSensitivity {
  readonly group: QuantGroup;
  readonly onlyQuantized: EvalMetrics;
  readonly onlyFloat: EvalMetrics;
}

export interface SensitivityResult {
  readonly groups: readonly GroupSensitivity[];
  readonly all: EvalMetrics;
  readonly elapsedMs: number;
  readonly runs: number;
}

function floatExcept(ctx: TuneContext, keep: QuantGroup | null): QuantConfig {
  let c = ctx.baseConfig;
  for (const g of ctx.groups) if (g !== keep) c = applyGroupChoice(c, g, { kind: 'float' });
  return c;
}

async function evalConfig(ctx: TuneContext, config: QuantConfig, signal?: AbortSignal) {
  const setting = settingFor(ctx.sb, ctx.setting, config);
  const metrics = await ctx.evaluator.evaluate(setting, signal);
  return { metrics, bytes: estimatedBytes(ctx.sb, ctx.floatBytes, setting) };
}

/** Every group quantized alone and kept float alone; ranked, most sensitive (lowest SQNR alone) first. */
export async function sensitivity(
  ctx: TuneContext,
  opts: { signal?: AbortSignal; onProgress?: (p: Progress) => void } = {},
): Promise<SensitivityResult> {
  const t0 = performance.now();
  const runs0 = ctx.evaluator.runs;
  const total = 1 + 2 * ctx.groups.length;
  let done = 0;
  const step = () => opts.onProgress?.({ phase: 'sensitivity', done: ++done, total });
  const all = (await evalConfig(ctx, ctx.baseConfig, opts.signal)).metrics;
  step();
  const rows: GroupSensitivity[] = [];
  for (const g of ctx.groups) {
    checkCancelled(opts.signal, 'sensitivity');
    const onlyQuantized = (await evalConfig(ctx, floatExcept(ctx, g), opts.signal)).metrics;
    step();
    const onlyFloat = (await evalConfig(ctx, applyGroupChoice(ctx.baseConfig, g, { kind: 'float' }), opts.signal))
      .metrics;
    step();
    rows.push({ group: g, onlyQuantized, onlyFloat });
  }
  rows.sort((a, b) => a.onlyQuantized.sqnrDb - b.onlyQuantized.sqnrDb || b.onlyFloat.sqnrDb - a.onlyFloat.sqnrDb);
  return { groups: rows, all, elapsedMs: performance.now() - t0, runs: ctx.evaluator.runs - runs0 };
}

export interface Trial {
  readonly id: number;
  readonly label: string;
  readonly config: QuantConfig;
  readonly metrics: EvalMetrics;
  readonly value: number;
  readonly bytes: number;
  readonly meets: boolean;
}

export interface Change {
  readonly group: string;
  readonly choice: string;
  readonly before: number;
  readonly after: number;
}

export interface TuneResult {
  readonly target: Target;
  readonly trials: readonly Trial[];
  /** Index into trials of the answer: the smallest that meets the target, else the best. */
  readonly chosen: number;
  readonly met: boolean;
  readonly changes: readonly Change[];
  readonly elapsedMs: number;
  readonly runs: number;
}

const METHODS = ['minmax', 'percentile', 'entropy', 'mse'] as const;
const MAX_TRIM = 24;

function wideOf(d: IntDType): IntDType {
  return d.startsWith('u') ? 'uint16' : 'int16';
}

/** The choices that fix a group, cheapest first. */
function fixChoices(ctx: TuneContext, g: QuantGroup): GroupChoice[] {
  const form = ctx.baseConfig.form ?? { kind: 'qdq' };
  const out: GroupChoice[] = [];
  if (form.kind === 'weight-only') {
    if (form.dtype !== 'int8' && ctx.sb.weightVariants.includes('int8')) {
      out.push({ kind: 'weights', dtype: 'int8', blockSize: null });
    }
  } else if (g.tensors.length && ctx.sb.activationDtypes.includes(wideOf(ctx.baseConfig.activations.dtype))) {
    out.push({ kind: 'activations', fields: { dtype: wideOf(ctx.baseConfig.activations.dtype) } });
  }
  out.push({ kind: 'float' });
  return out;
}

export async function tune(
  ctx: TuneContext,
  target: Target,
  opts: { signal?: AbortSignal; onProgress?: (p: Progress) => void } = {},
): Promise<TuneResult> {
  const t0 = performance.now();
  const runs0 = ctx.evaluator.runs;
  const form = ctx.baseConfig.form ?? { kind: 'qdq' };
  const floatTask = ctx.evaluator.floatTask;
  const trials: Trial[] = [];
  const seen = new Map<string, Trial>();
  let total = 1 + 4 + 3 * ctx.groups.length;
  const progress = (phase: string) => opts.onProgress?.({ phase, done: trials.length, total });
  const record = async (config: QuantConfig, label: string, phase: string): Promise<Trial> => {
    checkCancelled(opts.signal, 'tuning');
    const key = JSON.stringify(config);
    const hit = seen.get(key);
    if (hit) return hit;
    const { metrics, bytes } = await evalConfig(ctx, config, opts.signal);
    const t: Trial = {
      id: trials.length,
      label,
      config,
      metrics,
      value: targetValue(target, metrics, floatTask),
      bytes,
      meets: meets(target, metrics, floatTask),
    };
    trials.push(t);
    seen.set(key, t);
    progress(phase);
    return t;
  };
  // better: higher target value, then higher SQNR (top-1 agreement is coarse)
  const better = (a: Trial, b: Trial) =>
    a.value > b.value || (a.value === b.value && a.metrics.sqnrDb > b.metrics.sqnrDb);

  const base = await record(ctx.baseConfig, 'start: the chosen settings', 'start');
  let start = base;
  if (!base.meets) {
    // model-wide moves
    if (form.kind === 'qdq') {
      for (const m of METHODS) {
        const v = methodVariant(m)!;
        const t = await record(
          { ...ctx.baseConfig, activations: { ...ctx.baseConfig.activations, ...variantFields(v) } },
          `${m} everywhere`,
          'model-wide',
        );
        if (t.bytes <= start.bytes && better(t, start)) start = t;
      }
      const wide = wideOf(ctx.baseConfig.activations.dtype);
      if (ctx.sb.activationDtypes.includes(wide))
        await record(
          { ...start.config, activations: { ...start.config.activations, dtype: wide } },
          `${wide} activations everywhere`,
          'model-wide',
        );
    } else if (form.kind === 'weight-only' && form.dtype !== 'int8' && ctx.sb.weightVariants.includes('int8')) {
      await record(
        { ...ctx.baseConfig, form: { ...form, dtype: 'int8', symmetric: true, blockSize: null } },
        'int8 weights everywhere',
        'model-wide',
      );
    }
  }
  const changes: Change[] = [];
  if (!start.meets) {
    // sensitivity order: the group whose float version helps most first
    const ranked: { g: QuantGroup; t: Trial }[] = [];
    for (const g of ctx.groups) {
      const t = await record(applyGroupChoice(start.config, g, { kind: 'float' }), `${g.id} kept float`, 'ranking');
      ranked.push({ g, t });
    }
    ranked.sort((a, b) => (better(a.t, b.t) ? -1 : better(b.t, a.t) ? 1 : 0));
    total = trials.length + 2 * ranked.length;
    // the smallest prefix of the ranking whose fix meets the target (bisection: a longer prefix fixes
    // more, so the metric grows with it on the whole), with the cheapest fix first, then keeping float
    let current = start;
    let fixed: { g: QuantGroup; choice: GroupChoice }[] = [];
    const withPrefix = (k: number, pick: (g: QuantGroup) => GroupChoice) => {
      let c = start.config;
      const f = ranked.slice(0, k).map(({ g }) => ({ g, choice: pick(g) }));
      for (const x of f) c = applyGroupChoice(c, x.g, x.choice);
      return { config: c, fixes: f };
    };
    for (const pick of [(g: QuantGroup) => fixChoices(ctx, g)[0]!, (): GroupChoice => ({ kind: 'float' })]) {
      const all = withPrefix(ranked.length, pick);
      const top = await record(all.config, `the ${ranked.length} groups: ${choiceLabel(pick(ranked[0]!.g))}`, 'fixing');
      if (!top.meets) {
        if (better(top, current)) [current, fixed] = [top, all.fixes];
        continue;
      }
      let [lo, hi] = [0, ranked.length]; // prefix lo fails, hi meets
      let best = top;
      let bestFixes = all.fixes;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        const p = withPrefix(mid, pick);
        const t = await record(
          p.config,
          `the ${mid} most sensitive groups: ${choiceLabel(pick(ranked[0]!.g))}`,
          'fixing',
        );
        if (t.meets) [hi, best, bestFixes] = [mid, t, p.fixes];
        else lo = mid;
      }
      [current, fixed] = [best, bestFixes];
      break;
    }
    // cheaper choices back, least sensitive fix first, where the target still holds (a few tries)
    if (current.meets) {
      for (const f of [...fixed].reverse().slice(0, MAX_TRIM)) {
        const options: GroupChoice[] = [
          { kind: 'default' },
          ...fixChoices(ctx, f.g).filter((c) => c.kind !== f.choice.kind),
        ];
        for (const c of options.filter((c) => c.kind !== 'float')) {
          const t = await record(applyGroupChoice(current.config, f.g, c), `${f.g.id}: ${choiceLabel(c)}`, 'trimming');
          if (t.meets && t.bytes <= current.bytes) {
            current = t;
            break;
          }
        }
      }
    }
    for (const f of fixed) {
      const now = groupState(current.config, f.g);
      if (now === groupState(start.config, f.g)) continue;
      changes.push({
        group: f.g.label,
        choice: describeState(current.config, f.g),
        before: start.value,
        after: current.value,
      });
    }
  }
  if (start !== base) changes.unshift({ group: 'model', choice: start.label, before: base.value, after: start.value });
  const meeting = trials.filter((t) => t.meets);
  const pick = meeting.length
    ? meeting.reduce((a, b) => (b.bytes < a.bytes || (b.bytes === a.bytes && better(b, a)) ? b : a))
    : trials.reduce((a, b) => (better(b, a) ? b : a));
  return {
    target,
    trials,
    chosen: pick.id,
    met: pick.meets,
    changes,
    elapsedMs: performance.now() - t0,
    runs: ctx.evaluator.runs - runs0,
  };
}

function groupState(config: QuantConfig, g: QuantGroup): string {
  return JSON.stringify([g.tensors.map((t) => config.tensors?.[t]), g.nodes.map((n) => config.nodes?.[n])]);
}

function describeState(config: QuantConfig, g: QuantGroup): string {
  if (g.nodes.some((n) => config.nodes?.[n]?.exclude) || g.tensors.some((t) => config.tensors?.[t]?.exclude))
    return 'kept float';
  const parts: string[] = [];
  const a = g.tensors.map((t) => config.tensors?.[t]?.activations?.dtype).find((d) => d);
  if (a) parts.push(`${a} activations`);
  const w = g.nodes.map((n) => config.nodes?.[n]?.weights).find((x) => x?.dtype);
  if (w) parts.push(`${w.dtype} weights${w.blockSize ? ` in blocks of ${w.blockSize}` : ' per channel'}`);
  return parts.join(', ') || 'as chosen';
}
