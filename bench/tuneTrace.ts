/**
 * Tune's trace on rec and det static QDQ with the default target (bench/tune.ts's samples): each
 * configuration tried (label, samples run, size, meets), the runs and CPU seconds, and the chosen
 * configuration's overrides and metrics as JSON, so that a change to the search can be checked to
 * leave the choice identical: `npx tsx bench/tuneTrace.ts rec > a.json` before and after, then diff.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../src/core/config';
import { decodePng, PPOCR_DET_PRESET, PPOCR_REC_PRESET, type ImagePreset } from '../src/data/image';
import { materializeSample, type SampleSpec } from '../src/data/samples';
import { decodeModel, encodeModel, planQuantization, prepareModel, withExtraOutputs } from '../src/onnx';
import { calibrate } from '../src/runtime/calibrate';
import type { OrtModule } from '../src/runtime/ort';
import { prepareTuning } from '../src/runtime/tune/prepare';
import { tune } from '../src/runtime/tune/search';
import { defaultTarget } from '../src/runtime/tune/target';
import { DOC_IMAGES, ocrModel, ROOT } from '../test/helpers/sample';

const nodeOrt = ort as unknown as OrtModule;
const images = (paths: readonly string[], preset: ImagePreset): SampleSpec[] =>
  paths.map((p) => ({
    name: p,
    inputs: { x: { kind: 'image', name: p, image: decodePng(new Uint8Array(readFileSync(p)), p), preset } },
  }));

const which = process.argv[2] === 'det' ? 'det' : 'rec';
const lines = join(ROOT, 'public', 'samples', 'rec');
const names = Object.keys(JSON.parse(readFileSync(join(lines, 'labels.json'), 'utf8')) as Record<string, string>);
const all =
  which === 'rec'
    ? images(
        names.map((n) => join(lines, n)),
        PPOCR_REC_PRESET,
      )
    : images(DOC_IMAGES, PPOCR_DET_PRESET);
const [calib, held] = which === 'rec' ? [all.slice(0, 16), all.slice(16)] : [all.slice(0, 8), all.slice(14)];
const raw = ocrModel(which);
const prepared = prepareModel(decodeModel(raw, `${which}.onnx`), {}).model;
const plan = planQuantization(prepared, DEFAULT_CONFIG);
const s = await nodeOrt.InferenceSession.create(encodeModel(withExtraOutputs(prepared, plan.activations)));
const stats = await calibrate(
  nodeOrt,
  s,
  { count: calib.length, feeds: async (i) => materializeSample(calib[i]!) },
  plan.activations,
);
await s.release();
const ctx = await prepareTuning(nodeOrt, prepared, DEFAULT_CONFIG, stats, held, { floatBytes: raw.length });
const cpu0 = process.cpuUsage();
// time inside the evaluator's runs against the search's own work (settings, sizes, plans)
let evalMs = 0;
const evaluate = ctx.evaluator.evaluate.bind(ctx.evaluator);
ctx.evaluator.evaluate = async (...a) => {
  const t0 = performance.now();
  try {
    return await evaluate(...a);
  } finally {
    evalMs += performance.now() - t0;
  }
};
const byPhase: Record<string, number> = {};
let lastRuns = ctx.evaluator.runs;
const r = await tune(ctx, defaultTarget(ctx.evaluator), {
  onProgress: (p) => {
    byPhase[p.phase] = (byPhase[p.phase] ?? 0) + ctx.evaluator.runs - lastRuns;
    lastRuns = ctx.evaluator.runs;
  },
});
const cpu = process.cpuUsage(cpu0);
await ctx.release();
const chosen = r.trials[r.chosen]!;
console.log(
  JSON.stringify(
    {
      model: which,
      seconds: +(r.elapsedMs / 1000).toFixed(1),
      cpuS: +((cpu.user + cpu.system) / 1e6).toFixed(1),
      runs: r.runs,
      evalS: +(evalMs / 1000).toFixed(1),
      byPhase,
      trialCount: r.trials.length,
      chosen: {
        label: chosen.label,
        bytes: chosen.bytes,
        metrics: chosen.metrics,
        tensors: chosen.config.tensors,
        nodes: chosen.config.nodes,
        activations: chosen.config.activations,
      },
      changes: r.changes,
      trials: r.trials.map((t) => `${t.id} ${t.label} | n=${t.metrics.samples} ${t.bytes} ${t.meets ? 'MEETS' : ''}`),
    },
    null,
    1,
  ),
);
