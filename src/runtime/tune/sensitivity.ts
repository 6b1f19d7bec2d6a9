/**
 * Sensitivity (AIMET's QuantAnalyzer per-layer analysis): for every group, the output metric with only
 * that group quantized, and with only that group kept float, against the float model's cached outputs.
 */
import type { QuantConfig } from '../../core/config';
import { applyGroupChoice, type QuantGroup } from '../../onnx/groups';
import { checkCancelled } from './cancelled';
import type { EvalMetrics } from './evaluate';
import { evalConfig, type Progress, type TuneContext } from './tuneContext';

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

/**
 * Every group quantized alone and kept float alone; ranked, most sensitive (lowest SQNR alone) first.
 * `only` ranks just those groups (the page's quick sweep over the debugger's worst); "kept float alone"
 * still quantizes every other group of the model.
 */
export async function sensitivity(
  ctx: TuneContext,
  opts: { signal?: AbortSignal; onProgress?: (p: Progress) => void; only?: readonly QuantGroup[] } = {},
): Promise<SensitivityResult> {
  const t0 = performance.now();
  const runs0 = ctx.evaluator.runs;
  const ranked = opts.only ?? ctx.groups;
  const total = 1 + 2 * ranked.length;
  let done = 0;
  const step = () => opts.onProgress?.({ phase: 'sensitivity', done: ++done, total });
  const all = (await evalConfig(ctx, ctx.baseConfig, opts.signal)).metrics;
  step();
  const rows: GroupSensitivity[] = [];
  for (const g of ranked) {
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
