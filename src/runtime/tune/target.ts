/** The tuning target: which metric, what value counts as good enough, and whether a result meets it. */
import { QuantscopeError } from '../../core/errors';
import type { EvalBound, EvalMetrics, Evaluator } from './evaluate';

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
      : `at most ${+(100 * t.value).toFixed(4)} points below the float model's task metric`;
}

/** The metric a target reads, as a number where higher is better. */
export function targetValue(t: Target, m: EvalMetrics, floatTask: number | null): number {
  switch (t.metric) {
    case 'top1':
      if (m.top1 === null) throw new QuantscopeError('BAD_DATA', 'top-1 agreement needs an output with a class axis');
      // a written file's check counts only the rows that hold under nudged inputs (tune/nudge.ts)
      return m.stableTop1 ?? m.top1;
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

/**
 * The bound that stops an evaluation once its target value cannot reach `value` (by default the
 * target itself); none for a task metric, which reads every sample at once.
 */
export function boundFor(t: Target, value: number = t.value): EvalBound | undefined {
  return t.metric === 'task-drop' ? undefined : { metric: t.metric, below: value };
}
