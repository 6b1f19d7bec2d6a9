/** The sensitivity command: each group's effect on the output, quantized alone and left float alone. */
import { sensitivity } from '../runtime/tune/sensitivity';
import { hasFlag, UsageError, type Args } from './args';
import { fmt, setUp, bar } from './tuneSetup';

export async function cmdSensitivity(a: Args): Promise<void> {
  const path = a.positional[0];
  if (!path) throw new UsageError('sensitivity needs a model');
  const { ctx, note } = await setUp(a, path);
  const p = bar(a, 'sensitivity');
  try {
    const r = await sensitivity(ctx, { onProgress: p.onProgress });
    p.stop();
    const m = (x: { sqnrDb: number; cosine: number; top1: number | null; task: number | null }) => ({
      sqnrDb: x.sqnrDb,
      cosine: x.cosine,
      top1: x.top1,
      ...(x.task !== null ? { task: x.task } : {}),
    });
    if (hasFlag(a, 'json')) {
      console.log(
        JSON.stringify(
          {
            output: ctx.evaluator.output,
            heldOut: note,
            task: ctx.evaluator.taskName ? { name: ctx.evaluator.taskName, float: ctx.evaluator.floatTask } : null,
            all: m(r.all),
            elapsedMs: r.elapsedMs,
            runs: r.runs,
            groups: r.groups.map((g) => ({
              group: g.group.id,
              tensors: g.group.tensors,
              nodes: g.group.nodes,
              onlyQuantized: m(g.onlyQuantized),
              onlyFloat: m(g.onlyFloat),
            })),
          },
          (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v),
          2,
        ),
      );
      return;
    }
    console.log(
      `output ${ctx.evaluator.output}; ${note}; everything quantized: SQNR ${fmt(r.all.sqnrDb)} dB${r.all.top1 !== null ? `, top-1 ${(100 * r.all.top1).toFixed(1)}%` : ''}`,
    );
    const taskName = ctx.evaluator.taskName;
    if (taskName)
      console.log(
        `${taskName}: float ${(100 * ctx.evaluator.floatTask!).toFixed(2)}, everything quantized ${(100 * r.all.task!).toFixed(2)}`,
      );
    console.log(
      `rank  group  (output SQNR with only it quantized | with only it float${taskName ? `; ${taskName} likewise` : ''})`,
    );
    const pct = (x: number | null) => (x === null ? '' : (100 * x).toFixed(2));
    r.groups.forEach((g, i) =>
      console.log(
        `${String(i + 1).padStart(4)}  ${g.group.label}  (${fmt(g.onlyQuantized.sqnrDb)} | ${fmt(g.onlyFloat.sqnrDb)}${taskName ? `; ${pct(g.onlyQuantized.task)} | ${pct(g.onlyFloat.task)}` : ''})`,
      ),
    );
    console.log(`${r.groups.length} groups, ${r.runs} runs in ${(r.elapsedMs / 1000).toFixed(1)} s`);
  } finally {
    await ctx.release();
  }
}
