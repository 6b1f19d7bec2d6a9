/** The tune command: search for the smallest settings that meet the target, and write the file that runs. */
import { basename } from 'node:path';
import type { QuantConfig } from '../core/config';
import { QuantscopeError } from '../core/errors';
import { RECIPE_VERSION, rangesToRecipe, serializeRecipe, type Recipe } from '../core/recipe';
import { encodeModelParts, exportForm, planQuantization, type ModelProto } from '../onnx';
import { biasCorrectionTargets, correctBiasesFromData, withRenamedRanges } from '../runtime/modelAlgorithms';
import { nodeOrt } from '../runtime/ortNode';
import { rangesFor } from '../runtime/tune/prepare';
import { tune } from '../runtime/tune/search';
import type { TuneResult } from '../runtime/tune/trial';
import { defaultTarget, meets, targetLabel, targetValue, type Target } from '../runtime/tune/target';
import { chooseRunnable } from '../runtime/tune/verify';
import { flagValue, hasFlag, numberFlag, UsageError, type Args } from './args';
import { sha256, writeAtomically } from './files';
import { concatBytes, fmt, setUp, bar } from './tuneSetup';

function targetFromFlags(a: Args, classes: number | null, taskName: string | null): Target | null {
  const agreement = numberFlag(a, 'target-agreement');
  const sqnr = numberFlag(a, 'target-sqnr');
  const drop = numberFlag(a, 'target-drop');
  if ([agreement, sqnr, drop].filter((x) => x !== undefined).length > 1)
    throw new UsageError('--target-agreement, --target-sqnr and --target-drop exclude each other');
  if (drop !== undefined) {
    if (!(drop >= 0 && drop <= 100)) throw new UsageError(`--target-drop ${drop}: points of the task metric, 0 to 100`);
    if (!taskName)
      throw new UsageError(
        '--target-drop needs a task metric: a PP-OCR rec model with --labels, or a PP-OCR det model',
      );
    return { metric: 'task-drop', value: drop / 100 };
  }
  if (agreement !== undefined) {
    if (!(agreement > 0 && agreement <= 1))
      throw new UsageError(`--target-agreement ${agreement}: a fraction in (0, 1]`);
    if (classes === null)
      throw new UsageError(
        '--target-agreement needs an output with a class axis ([N, C] or [N, T, C]); use --target-sqnr',
      );
    return { metric: 'top1', value: agreement };
  }
  if (sqnr !== undefined) return { metric: 'sqnr', value: sqnr };
  return null;
}

export async function cmdTune(a: Args): Promise<void> {
  const path = a.positional[0];
  const out = flagValue(a, 'output');
  if (!path || !out) throw new UsageError('tune needs a model and -o OUT.onnx');
  // the whole command's time (calibration, sessions, search, checks, writing), not the search's alone:
  // where the start already meets the target the search is one cached trial and takes no time
  const t0 = performance.now();
  const { bytes, fixed, preparation, prepared, stats, ctx, note, heldOut, source } = await setUp(a, path);
  let result: TuneResult;
  const target = targetFromFlags(a, ctx.evaluator.classes, ctx.evaluator.taskName) ?? defaultTarget(ctx.evaluator);
  const p = bar(a, 'tuning');
  try {
    result = await tune(ctx, target, { onProgress: p.onProgress });
  } finally {
    p.stop();
    await ctx.release();
  }
  // the chosen file must load and run in onnxruntime at its default optimization level: where it
  // does not, the next smallest that meets the target is written instead (runtime/tune/verify.ts)
  const buildFile = (c: QuantConfig) => {
    const qdqForm = (c.form ?? { kind: 'qdq' }).kind === 'qdq';
    const rs = qdqForm && stats ? rangesFor(stats, prepared, c) : null;
    return concatBytes(
      encodeModelParts(
        exportForm(prepared, c, rs ? { plan: planQuantization(prepared, c), ranges: rs } : undefined).model,
      ),
    );
  };
  const checked = await chooseRunnable(nodeOrt, result, buildFile, heldOut[0]!, out, undefined, {
    evaluator: ctx.evaluator,
    target,
  });
  const chosen = checked.trial;
  // met where the written file meets it in onnxruntime, not only the switchboard (runtime/tune/verify.ts)
  const fileValue = checked.fileMetrics ? targetValue(target, checked.fileMetrics, ctx.evaluator.floatTask) : null;
  const met =
    chosen.meets && (checked.fileMetrics ? meets(target, checked.fileMetrics, ctx.evaluator.floatTask) : true);
  const config: QuantConfig = chosen.config;
  const qdq = (config.form ?? { kind: 'qdq' }).kind === 'qdq';
  let ranges = qdq && stats ? rangesFor(stats, prepared, config) : null;
  let fileBytes = checked.bytes;
  if (biasCorrectionTargets(prepared, config).length > 0) {
    // --bias-correction: applied to the chosen file (the search compared the files without it)
    const withRanges = (m: ModelProto) => (ranges ? { plan: planQuantization(m, config), ranges } : undefined);
    const first = exportForm(prepared, config, withRanges(prepared)).model;
    const c = await correctBiasesFromData(nodeOrt, prepared, config, source, first);
    if (ranges) ranges = withRenamedRanges(ranges, c.renamed);
    fileBytes = concatBytes(encodeModelParts(exportForm(c.model, config, withRanges(c.model)).model));
  }
  writeAtomically(out, [fileBytes]);
  const size = fileBytes.length;
  const recipeOut = flagValue(a, 'write-recipe');
  if (recipeOut) {
    const written: Recipe = {
      $schema: 'recipe.schema.json',
      quantscope: RECIPE_VERSION,
      model: { fileName: basename(path), sha256: sha256(bytes), bytes: bytes.length },
      preparation: { fixedInputs: fixed, log: preparation.log },
      calibration: null,
      config,
      ranges: ranges ? rangesToRecipe(ranges) : {},
    };
    writeAtomically(recipeOut, [new TextEncoder().encode(serializeRecipe(written))]);
  }
  const base = result.trials[0]!;
  const summary = {
    output: out,
    target: { ...target, label: targetLabel(target), output: ctx.evaluator.output },
    heldOut: note,
    task: ctx.evaluator.taskName
      ? {
          name: ctx.evaluator.taskName,
          float: ctx.evaluator.floatTask,
          before: base.metrics.task,
          after: chosen.metrics.task,
        }
      : null,
    met,
    file: checked.fileMetrics ? { value: fileValue, metrics: checked.fileMetrics } : null,
    before: { value: base.value, metrics: base.metrics, bytes: base.bytes },
    after: { value: chosen.value, metrics: chosen.metrics, bytes: size, ratio: size / bytes.length },
    changes: result.changes,
    trials: result.trials.map((t) => ({ id: t.id, label: t.label, value: t.value, bytes: t.bytes, meets: t.meets })),
    chosen: chosen.id,
    refused: checked.refused,
    elapsedMs: result.elapsedMs,
    totalMs: performance.now() - t0,
    runs: result.runs,
    config,
  };
  if (hasFlag(a, 'json')) {
    console.log(
      JSON.stringify(summary, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2),
    );
  } else {
    console.log(`target: ${targetLabel(target)} on output ${ctx.evaluator.output} (${note})`);
    console.log(`before: ${fmt(base.value)} (the chosen settings, ${base.bytes} bytes estimated)`);
    for (const c of result.changes) console.log(`  changed ${c.group}: ${c.choice}`);
    if (result.changes.length === 0)
      console.log(
        `  nothing changed: the starting settings already meet the target on the ${heldOut.length} held-out samples`,
      );
    console.log(
      `after: ${fmt(chosen.value)} ${met ? 'meets' : 'MISSES'} the target (best of ${result.trials.length} tried)${fileValue !== null ? `; the written file in onnxruntime: ${fmt(fileValue)}${checked.fileMetrics?.stableTop1 !== undefined ? ` (counting only the rows that hold with the input nudged: runtime/tune/nudge.ts; ${fmt(checked.fileMetrics.top1!)} plain)` : ''}` : ''}`,
    );
    for (const r of checked.refused) console.log(`  passed over trial ${r.id}: ${r.reason}`);
    if (ctx.evaluator.taskName) {
      const pct = (x: number | null) => (x === null ? '?' : `${(100 * x).toFixed(2)}%`);
      console.log(
        `${ctx.evaluator.taskName}: float ${pct(ctx.evaluator.floatTask)}, before ${pct(base.metrics.task)}, after ${pct(chosen.metrics.task)}`,
      );
    }
    console.log(
      `${out}: ${size} bytes (${((100 * size) / bytes.length).toFixed(1)}% of the float model); loads and runs in onnxruntime`,
    );
    const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const tried = `${result.trials.length} configuration${result.trials.length === 1 ? '' : 's'}`;
    console.log(
      `took ${secs(summary.totalMs)} in all (the search: ${tried}, ${result.runs} runs, ${secs(result.elapsedMs)})`,
    );
  }
  if (!met)
    throw new QuantscopeError(
      'BAD_RANGE',
      `no configuration tried meets ${targetLabel(target)}: ${out} holds the best (${fmt(chosen.value)})`,
    );
}
