/**
 * Tune on a background-removal-sized model (issue 12, §3: "on a 176 MB model with a 1024x1024 input,
 * 8 samples and 2 cores, Tune must finish within 20 minutes"). No such model ships here, so this file
 * writes one of that shape and size into a temporary folder (never committed), built by bench/segModel.ts:
 * a U-Net-shaped conv encoder-decoder like IS-Net / RMBG-1.4, input [1, 3, 1024, 1024], a [1, 1, 1024, 1024]
 * Sigmoid mask out.
 *
 *   seg176_model_mb                 float weights of the generated model (≈ 176 MB)
 *   seg176_activation_mb            every intermediate tensor of one sample added up (what calibration sees)
 *   seg176_inference_s              one plain onnxruntime-node run (the float model, default options)
 *   tune_seg176_wall_s              `quantscope tune` wall time, 8 samples (6 calibration + 2 held out, the CLI's
 *                                   default split), default target (output SQNR >= 30 dB), static QDQ int8 start
 *   tune_seg176_cpu_s               its user + system CPU time (the machine is shared: read it beside the wall time)
 *   tune_seg176_peak_rss_mb         its peak resident memory
 *
 *   npm run bench -- segtune        (a long section, left out of a plain `npm run bench`)
 *   npx tsx bench/segTune.ts [--keep DIR]   (same; --keep leaves the model, samples and output in DIR)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeModel } from '../src/onnx';
import { createNodeSession, nodeOrt } from '../src/runtime/ortNode';
import { makeNpy } from '../test/helpers/npy';
import { ROOT } from '../test/helpers/sample';
import { SEG_176MB, segModel, segSample } from './segModel';

type Emit = (name: string, value: number, unit: string, extra?: Record<string, unknown>) => void;

/** Parse GNU time -v's report (wall, user + system CPU, max RSS). */
function parseTimeV(text: string): { wall: number; cpu: number; rssMb: number } {
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  const wallText = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(text)?.[1] ?? '';
  const wall = wallText.split(':').reduce((acc, p) => acc * 60 + Number(p), 0);
  const cpu = num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/);
  return { wall, cpu, rssMb: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024 };
}

export async function benchSegTune(emit: Emit, keep?: string): Promise<void> {
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'quantscope-bench-seg-'));
  mkdirSync(dir, { recursive: true });
  try {
    const shape = SEG_176MB;
    const built = segModel(shape);
    const modelPath = join(dir, 'seg176.onnx');
    writeFileSync(modelPath, encodeModel(built.model));
    built.model.graph!.initializer = []; // let the builder's 176 MB go
    const modelMb = statSync(modelPath).size / 1e6;
    emit('seg176_model_mb', modelMb, 'MB', { params: built.params, nodes: built.model.graph!.node.length });
    emit('seg176_activation_mb', (built.activationElements * 4) / 1e6, 'MB', { per: 'sample, every node output' });

    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const samples = Number(process.env.BENCH_SEG_SAMPLES ?? 8);
    for (let i = 0; i < samples; i++) {
      const px = segSample(shape.image, i);
      writeFileSync(join(dataDir, `photo_${i}.npy`), makeNpy('<f4', [1, 3, shape.image, shape.image], px));
    }

    // The float model runs in onnxruntime-node and its mask is finite and not saturated.
    const session = await createNodeSession(new Uint8Array(readFileSync(modelPath)));
    const feed = new nodeOrt.Tensor('float32', segSample(shape.image, 0), [1, 3, shape.image, shape.image]);
    await session.run({ image: feed } as never);
    const t0 = performance.now();
    const out = (await session.run({ image: feed } as never)) as Record<string, { data: Float32Array }>;
    emit('seg176_inference_s', (performance.now() - t0) / 1000, 's', { load: loadavg()[0] });
    const mask = out.mask!.data;
    let lo = Infinity,
      hi = -Infinity,
      sum = 0;
    for (const v of mask) {
      if (!Number.isFinite(v)) throw new Error('seg176: the float mask has a non-finite value');
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      sum += v;
    }
    emit('seg176_mask_mean', sum / mask.length, 'ratio', { min: lo, max: hi });
    await session.release();

    const outPath = join(dir, 'seg176.tuned.onnx');
    const loadBefore = loadavg();
    const tuned = spawnSync(
      '/usr/bin/time',
      [
        '-v',
        'node',
        join(ROOT, 'bin', 'quantscope.mjs'),
        'tune',
        modelPath,
        '--data',
        dataDir,
        '-o',
        outPath,
        '--json',
      ],
      { encoding: 'utf8', maxBuffer: 1 << 28 },
    );
    const loadAfter = loadavg();
    writeFileSync(join(dir, 'tune.stdout'), tuned.stdout);
    writeFileSync(join(dir, 'tune.stderr'), tuned.stderr);
    const time = parseTimeV(tuned.stderr);
    const tags: Record<string, unknown> = {
      samples,
      exit: tuned.status,
      load_before: loadBefore.map((l) => Number(l.toFixed(1))),
      load_after: loadAfter.map((l) => Number(l.toFixed(1))),
    };
    try {
      const report = JSON.parse(tuned.stdout) as Record<string, unknown>;
      for (const key of ['met', 'runs', 'elapsedMs', 'totalMs']) if (key in report) tags[key] = report[key];
      const trials = report.trials as { label: string }[] | undefined;
      if (trials) tags.configurations = trials.length;
      const after = report.after as { value?: number; ratio?: number } | undefined;
      if (after) [tags.sqnrDb, tags.sizeRatio] = [after.value, after.ratio];
      // the written file's own SQNR in onnxruntime (runtime/tune/verify.ts)
      const file = report.file as { value?: number } | null | undefined;
      if (file) tags.fileSqnrDb = file.value;
    } catch {
      tags.stdout_tail = tuned.stdout.slice(-400);
    }
    if (tuned.status !== 0) tags.stderr_tail = tuned.stderr.slice(-1200);
    emit('tune_seg176_wall_s', time.wall, 's', { ...tags, target: 1200 });
    // CPU time is the figure to read on a shared machine (the wall time there waits for the others)
    emit('tune_seg176_cpu_s', time.cpu, 's', { target: 1200 });
    emit('tune_seg176_peak_rss_mb', time.rssMb, 'MiB');
    if (tuned.status === 0) emit('tune_seg176_output_mb', statSync(outPath).size / 1e6, 'MB');
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const k = process.argv.indexOf('--keep');
  await benchSegTune(
    (name, value, unit, extra = {}) =>
      console.log(JSON.stringify({ name, value: Number(value.toFixed(4)), unit, ...extra })),
    k > 0 ? process.argv[k + 1] : undefined,
  );
}
