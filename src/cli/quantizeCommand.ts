/** The quantize command: calibrate (or read a recipe), export the form, check it, and report. */
import { basename } from 'node:path';
import { readFileSync } from 'node:fs';
import { calibratedRanges } from '../core/calibratedRanges';
import { HISTOGRAM_BINS } from '../core/config';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import { buildRecipe, parseRecipe, rangesFromRecipe, serializeRecipe, type Recipe } from '../core/recipe';
import {
  exportTflite,
  shapesFixedWords,
  tfliteInt8HeldConfig,
  tfliteInt8Unheld,
  type TfliteReport,
} from '../onnx/forms/tflite';
import {
  buildQdqModel,
  encodeModel,
  exportForm,
  planQuantization,
  producerOpTypes,
  summarizeModel,
  type TensorRange,
} from '../onnx';
import { materializeSample, sampleSource } from '../data/samples';
import { nodeOrt } from '../runtime/ortNode';
import { fixedInputs, hasFlag, flagValue, UsageError, type Args } from './args';
import { runWeightRounding } from './calibration';
import { calibratePlan } from './calibratePlan';
import { roundingTargets } from '../runtime/roundingTargets';
import {
  biasCorrectionTargets,
  correctBiasesFromData,
  rewriteBeforeCalibration,
  wantsRewrite,
  withRenamedRanges,
  type ModelAlgorithmsReport,
} from '../runtime/modelAlgorithms';
import { describeSamples, loadSamples } from './data';
import { imageInput, readModel, sha256, writeAtomically } from './files';
import { configFromFlags } from './flags';
import { guardOnNode, guardWeightsOnNode, reportVerdict } from './guard';
import { prepareWithData } from './prepareData';
import { writeExportStreamed } from './writeExport';

export async function cmdQuantize(a: Args): Promise<void> {
  const path = a.positional[0];
  const out = flagValue(a, 'output');
  if (!path || !out) throw new UsageError('quantize needs a model and -o OUT.onnx');
  const { bytes, model, sizeBytes } = readModel(path);
  let recipe: Recipe | null = null;
  const recipePath = flagValue(a, 'recipe');
  if (recipePath) {
    let text: string;
    try {
      text = readFileSync(recipePath, 'utf8');
    } catch {
      throw new QuantscopeError('BAD_DATA', `${recipePath}: cannot be read`);
    }
    recipe = parseRecipe(text, recipePath);
    const sha = sha256(bytes);
    if (sha !== recipe.model.sha256) {
      if (!hasFlag(a, 'force'))
        throw new QuantscopeError(
          'BAD_DATA',
          `${recipePath}: the recipe is for ${recipe.model.fileName} (sha256 ${recipe.model.sha256}), not ${path} (sha256 ${sha}); --force uses it anyway`,
        );
      console.error(
        `warning: ${recipePath} is for another model (${recipe.model.fileName}); going on because of --force`,
      );
    }
  }
  const config = recipe ? recipe.config : configFromFlags(a);
  const prep = prepareWithData(
    model,
    path,
    config,
    recipe ? recipe.preparation.fixedInputs : fixedInputs(a),
    a.flags.get('data'),
    { chain: hasFlag(a, 'chain'), autoFix: !recipe },
  );
  const { fixed, samples, chain, load, log } = prep;
  const source = samples ? sampleSource(samples) : null;
  // equalization and SmoothQuant rewrite the float model that calibration, rounding and export then see
  const rewritten = wantsRewrite(config)
    ? await rewriteBeforeCalibration(nodeOrt, prep.prepared, config, source)
    : null;
  if (rewritten) reportRewrites(rewritten.report);
  let prepared = rewritten?.model ?? prep.prepared;
  let plan = planQuantization(prepared, config);
  const form = config.form ?? { kind: 'qdq' };
  let ranges: Map<string, TensorRange | null> | undefined;
  let calibration: Recipe['calibration'] = null;
  const tfliteInt8 = form.kind === 'tflite' && form.precision === 'int8';
  if (form.kind === 'qdq' || tfliteInt8) {
    if (recipe && Object.keys(recipe.ranges).length) ranges = rangesFromRecipe(recipe);
    else {
      if (!samples)
        throw new UsageError(
          `${tfliteInt8 ? 'TFLite int8' : 'static QDQ'} needs ranges: give --data to calibrate on, or a --recipe that has them`,
        );
      const { mode, stats } = await calibratePlan(a, {
        path,
        model,
        prepared,
        plan,
        fixed,
        samples,
        config,
        chain,
        quiet: !process.stderr.isTTY,
      });
      const producers = producerOpTypes(prepared);
      ranges = calibratedRanges(stats, config, (t) => producers.get(t));
      calibration = {
        mode,
        bins: HISTOGRAM_BINS,
        backend: 'cpu',
        data: describeSamples(samples, imageInput(prepared)),
      };
    }
  }
  let rounded: Awaited<ReturnType<typeof runWeightRounding>> | undefined;
  if (roundingTargets(prepared, config).length > 0) {
    const data = a.flags.get('data');
    if (!data) throw new UsageError("--algorithm gptq and adaround need --data to calibrate on (the layers' inputs)");
    const s = summarizeModel(model, prepared, plan, basename(path), 0, []);
    rounded = await runWeightRounding(
      prepared,
      config,
      loadSamples(data, s.inputs, imageInput(prepared), fixed),
      !process.stderr.isTTY,
    );
    const worse = rounded.layers.filter((l) => l.loss > l.lossRtn).length;
    console.error(
      `rounded ${rounded.layers.length} weights in ${rounded.layers.reduce((t, l) => t + l.seconds, 0).toFixed(1)} s; calibration loss below round-to-nearest's on ${rounded.layers.length - worse}`,
    );
  }
  if (form.kind === 'tflite') {
    // TFLite needs fixed shapes: the first sample's (a dynamic input without data is refused by name).
    const first = samples?.[0] ? materializeSample(samples[0]) : {};
    const inputShapes = Object.fromEntries(Object.entries(first).map(([k, v]) => [k, [...v.dims]]));
    const t = exportTflite(
      prepared,
      { precision: form.precision, io: form.io, fullyConnectedPerChannel: form.fullyConnectedPerChannel, inputShapes },
      ranges ? { plan, ranges, config } : undefined,
      `Quantscope TFLite export of ${basename(path)}`,
    );
    writeAtomically(out, [t.bytes]);
    console.log(tfliteSummary(out, t.report, bytes.length));
    // flags that ask for these are refused (cli/flags.ts); a recipe made on the page may hold them, and
    // the file is written int8 all the same, as the page writes it, and said so as the page says it
    const unheld = tfliteInt8 ? tfliteInt8Unheld(config) : [];
    if (unheld.length)
      console.error(
        `note: written int8 all the same: ${unheld.join(', ')} (chosen for the ONNX forms in ${recipePath ?? 'the configuration'}; a TFLite int8 file is int8 throughout, by TFLite's int8 specification)`,
      );
    // The command line has no TFLite interpreter: the file itself is not run here. An int8 file's static
    // QDQ twin (the same ranges, the choices the file holds: never those it cannot) is checked against the
    // float model in its place, and said to be the twin.
    const heldOut = a.flags.get('held-out');
    if (tfliteInt8 && ranges) {
      const held = tfliteInt8HeldConfig(config, { fullyConnectedPerChannel: form.fullyConnectedPerChannel === true });
      const twin = encodeModel(buildQdqModel(prepared, planQuantization(prepared, held), ranges, held).model);
      const v = await checkedOrSaid(out, () =>
        guardOnNode(prepared, [twin], heldOut ? load(heldOut) : null, samples, chain),
      );
      reportVerdict(
        v && {
          ...v,
          source: `${v.source}; measured on the static QDQ export of the same ranges in onnxruntime-node, not on the .tflite, which the command line cannot run`,
        },
        undefined,
        true,
      );
    } else
      reportVerdict(
        null,
        `${out} is a .tflite file, which the command line cannot run (it has no TFLite interpreter); the page runs it in TFLite's own and checks it against the float model`,
      );
  } else {
    // the form, run again on the corrected model when bias correction measured it first
    const runForm = () => exportForm(prepared, config, ranges ? { plan, ranges } : undefined, rounded?.rounded);
    if (biasCorrectionTargets(prepared, config).length > 0) {
      if (!source) throw new UsageError("--bias-correction needs --data to measure the layers' mean inputs on");
      const c = await correctBiasesFromData(nodeOrt, prepared, config, source, runForm().model);
      prepared = c.model;
      if (ranges) ranges = withRenamedRanges(ranges, c.renamed);
      plan = planQuantization(prepared, config);
      console.error(
        `bias correction: ${c.layers.length} biases corrected (largest mean shift removed ${Math.max(0, ...c.layers.map((l) => l.maxShift)).toExponential(2)})${c.skipped.length ? `; left alone: ${c.skipped.map((s) => `${s.node} (${s.reason})`).join(', ')}` : ''}`,
      );
    }
    // streamed: one weight at a time, OUT.onnx_data beside it past 2 GiB or with --external-data
    const w = await writeExportStreamed(out, runForm, { forceExternal: hasFlag(a, 'external-data') });
    const r = w.result;
    console.log(
      `${out}: ${r.report.form}, ${w.bytes} bytes (${((100 * w.bytes) / sizeBytes).toFixed(1)}% of the float model)${w.dataFile ? `, weights in ${basename(w.dataFile)}` : ''}`,
    );
    const heldOutPaths = a.flags.get('held-out');
    const check = heldOutPaths ? load(heldOutPaths) : null;
    // a file with external data (past 2 GiB, or --external-data) may not fit a session here: its weights
    // are checked tensor by tensor instead, read back from what was written, one at a time
    if (w.external)
      reportVerdict(
        await checkedOrSaid(out, () => guardWeightsOnNode(prepared, out)),
        `${out} keeps its weights in external data (checked weight by weight, not run) and has no DequantizeLinear weights to check one by one`,
      );
    else
      reportVerdict(await checkedOrSaid(out, () => guardOnNode(prepared, [readFileSync(out)], check, samples, chain)));
  }
  const recipeOut = flagValue(a, 'write-recipe');
  if (recipeOut) {
    const written = buildRecipe({
      model: { fileName: basename(path), sha256: sha256(bytes), bytes: bytes.length },
      preparation: { fixedInputs: fixed, log },
      calibration: recipe?.calibration ?? calibration,
      config,
      ranges: ranges ?? null,
    });
    writeAtomically(recipeOut, [new TextEncoder().encode(serializeRecipe(written))]);
  }
}

/**
 * The export's check against the float model. When the check itself fails (onnxruntime-node refuses
 * the float model or the export, say), the error says that the file was written and was not checked.
 */
async function checkedOrSaid<T>(out: string, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (e) {
    const { code, message } = toErrorInfo(e);
    throw new QuantscopeError(code, `${out} was written but not checked against the float model: ${message}`);
  }
}

/** What equalization and SmoothQuant did, on stderr: the pairs (and those skipped, with the reason), the smoothed inputs. */
function reportRewrites(r: ModelAlgorithmsReport): void {
  if (r.equalization) {
    const e = r.equalization;
    console.error(
      `equalization: ${e.pairs.length} pairs equalized${e.pairs.length ? ` (${e.pairs.map((p) => `${p.first}→${p.second}`).join(', ')})` : ''}`,
    );
    for (const s of e.skipped) console.error(`  skipped ${s.first}→${s.second}: ${s.reason}`);
  }
  if (r.smoothquant)
    console.error(
      `SmoothQuant: ${r.smoothquant.length} inputs smoothed${r.smoothquant.length ? ` (${r.smoothquant.map((s) => `${s.input} → ${s.nodes.join('/')}, folded into ${s.foldedInto}`).join('; ')})` : ''}`,
    );
}

/** The TFLite report as the terminal shows it: size, I/O, arena, ops and their TFLite Micro kernels. */
function tfliteSummary(out: string, r: TfliteReport, floatBytes: number): string {
  const io = (x: TfliteReport['inputs'][number]) =>
    `${x.name} ${x.type}[${x.shape.join(', ')}]${x.scale !== undefined ? ` scale ${x.scale} zero point ${x.zeroPoint}` : ''}`;
  return [
    `${out}: TFLite ${r.precision}, ${r.bytes} bytes (${((100 * r.bytes) / floatBytes).toFixed(1)}% of the float model)`,
    `  inputs: ${r.inputs.map(io).join('; ')}`,
    `  outputs: ${r.outputs.map(io).join('; ')}`,
    ...(r.shapesFixed ? [`  ${shapesFixedWords(r)}`] : []),
    `  TFLite Micro arena at least ${r.arenaBytes} bytes (largest live activations, at ${r.arenaPeakAt})`,
    `  ops: ${r.ops.map((o) => `${o.op}×${o.count}${o.micro?.int8 ? '' : ' (no TFLite Micro int8 kernel)'}`).join(', ')}`,
    ...(r.precision === 'int8' ? [`  every op has a TFLite Micro int8 kernel: ${r.microReady ? 'yes' : 'no'}`] : []),
  ].join('\n');
}
