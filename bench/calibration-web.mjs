// Calibration over plain inference for the sample, on onnxruntime-web's WASM backend (the kernels
// the page runs), in a process of its own. Prints one JSON object on stdout.
// Usage: node bench/calibration-web.mjs plain.onnx calibration.onnx tensors.json threads in0.f32 ...
// (QS_RECOMPUTE: the fetch plan's JSON and QS_RECOMPUTE_MODEL its calibration model, fetching only
// the plan's tensors: the page's calibration, which recomputes the others in the fold)
//
// Also measured here:
//  - whether a WASM run frees the calling thread (event-loop ticks while `run` is awaited): folding
//    sample i while sample i+1 runs needs it; where it does not, calibration folds one sample at a time;
//  - peak memory (getrusage's maxRSS, the whole process) against the model and the activations;
//  - the same calibration through calibrate() with a fold worker (src/runtime/foldWorker.ts): sample
//    i folded in a second thread while sample i+1 runs; wall and CPU time (all threads), peak memory;
//  - what the 236 extra outputs cost a run: copying one sample's activations into fresh arrays,
//    as onnxruntime-web does for each CPU output (out of the wasm heap);
//  - each overlapped run's timeline (the page's, recomputing what it can, and fetching everything), per
//    sample: each run (wall, and this thread's CPU time), the wait for the fold worker before the next
//    run (back-pressure), each fold in the worker (wall, its thread's CPU time, the first one apart; the
//    worker is bench/foldWorkerTimed.ts), the worker's idle time before each sample, post-to-fold-start
//    latency, this thread's garbage collection, and the last fold after the last run.
import { readFileSync, statSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import * as ort from 'onnxruntime-web';

const [plainPath, calibPath, tensorsPath, threads, ...inputs] = process.argv.slice(2);
ort.env.wasm.numThreads = Number(threads);
const tensors = JSON.parse(readFileSync(tensorsPath, 'utf8'));
const { foldTensor, emptyStats, calibrate, nodeFoldWorker } = await import(process.env.QS_CALIBRATE_MODULE);
const feeds = inputs.map((f) => {
  const b = readFileSync(f);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
});
const dims = JSON.parse(process.env.QS_DIMS);
const plain = await ort.InferenceSession.create(new Uint8Array(readFileSync(plainPath)));
const calib = await ort.InferenceSession.create(new Uint8Array(readFileSync(calibPath)));
const tensor = (d) => new ort.Tensor('float32', d, dims);
await plain.run({ x: tensor(feeds[0]) }); // warm-up
const first = await calib.run({ x: tensor(feeds[0]) }, tensors);
let sampleBytes = 0;
let largestBytes = 0;
for (const k of tensors) {
  sampleBytes += first[k].data.byteLength;
  largestBytes = Math.max(largestBytes, first[k].data.byteLength);
}

// Does the calling thread run anything while a WASM inference is awaited?
let ticks = 0;
const timer = setInterval(() => ticks++, 1);
const tRun = performance.now();
await plain.run({ x: tensor(feeds[0]) });
const probeMs = performance.now() - tRun;
clearInterval(timer);

const cpuOf = (c) => (c.user + c.system) / 1000;
const plainCpu0 = process.cpuUsage();
let t = performance.now();
for (const d of feeds) await plain.run({ x: tensor(d) });
const plainMs = performance.now() - t;
// CPU time beside the wall time: on a shared machine the wall time of a phase moves with the load
const plainCpuMs = cpuOf(process.cpuUsage(plainCpu0));
const rssBefore = process.memoryUsage().rss;
t = performance.now();
let runMs = 0;
let runCpuMs = 0;
// The fold's CPU time too (the process's, taken while only the fold runs): on a loaded machine the
// wall time of the fold moves with the other processes far more than its CPU time does.
let foldCpuMs = 0;
let stats = emptyStats(tensors);
const cpuInThread0 = process.cpuUsage();
for (const d of feeds) {
  const t1 = performance.now();
  const rc0 = process.cpuUsage();
  const r = await calib.run({ x: tensor(d) }, tensors);
  runMs += performance.now() - t1;
  runCpuMs += cpuOf(process.cpuUsage(rc0));
  const c0 = process.cpuUsage();
  const next = {};
  for (const k of tensors) next[k] = foldTensor(stats[k], k, r[k].data);
  stats = next;
  const c = process.cpuUsage(c0);
  foldCpuMs += (c.user + c.system) / 1000;
}
const calibMs = performance.now() - t;
const cpuInThread = process.cpuUsage(cpuInThread0);
const peakRssInThread = process.resourceUsage().maxRSS * 1024;

// The same samples through calibrate() with a fold worker (the statistics checked equal below),
// its timeline taken around the session's runs and the worker's messages.
const notes = [];
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const source = { count: feeds.length, feeds: async (i) => ({ x: { type: 'float32', data: feeds[i], dims } }) };
const now = () => performance.timeOrigin + performance.now();
const threadCpuMs = () => {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
};
/**
 * calibrate() with the (timed) fold worker on `session`, and its timeline: each run's start and end (and
 * this thread's CPU), when each sample was posted, the worker's timing of each fold, this thread's
 * garbage collections.
 */
async function timedCalibrate(session, opts) {
  const runs = []; // { start, end, cpuMs }
  const posts = []; // when each sample was posted to the worker
  const folds = []; // the worker's timing of each sample: { receivedAt, foldedAt, cpuMs }
  const timedSession = {
    outputNames: session.outputNames,
    run: async (f, fetches) => {
      const start = now();
      const c = threadCpuMs();
      const r = await session.run(f, fetches);
      runs.push({ start, end: now(), cpuMs: threadCpuMs() - c });
      return r;
    },
  };
  const spawnWorker = nodeFoldWorker(process.env.QS_FOLD_WORKER);
  const timedSpawn = () => {
    const port = spawnWorker();
    return {
      ...port,
      post: (m, transfer) => {
        if (m.type === 'sample') posts.push(now());
        port.post(m, transfer);
      },
      listen: (reply, fail) =>
        port.listen((r) => {
          if (r.type === 'folded' && r.timing) folds.push(r.timing);
          reply(r);
        }, fail),
    };
  };
  const gcs = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: performance.timeOrigin + e.startTime, ms: e.duration });
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const calibStart = now();
  const stats = await calibrate(ort, timedSession, source, tensors, {
    foldWorker: { spawn: timedSpawn, spareBytes: 8 * 1024 ** 3 },
    ...opts,
  });
  const ms = performance.now() - t0;
  const calibEnd = now();
  const cpu = process.cpuUsage(cpu0);
  await new Promise((resolve) => setImmediate(resolve)); // the last gc entries are delivered
  gcObserver.disconnect();
  const timeline = {
    runMs: mean(runs.map((r) => r.end - r.start)),
    runCpuMs: mean(runs.map((r) => r.cpuMs)),
    // from a run's end to the next run's start: mostly waiting for the worker to take the sample
    waitMs: mean(runs.slice(1).map((r, i) => r.start - runs[i].end)),
    foldMs: mean(folds.map((f) => f.foldedAt - f.receivedAt)),
    foldCpuMs: mean(folds.map((f) => f.cpuMs)),
    // the first sample's fold (code still cold in the worker) apart
    firstFoldMs: folds.length ? folds[0].foldedAt - folds[0].receivedAt : NaN,
    // the worker with nothing to fold, before each sample after the first
    workerIdleMs: mean(folds.slice(1).map((f, i) => Math.max(0, f.receivedAt - folds[i].foldedAt))),
    postToFoldMs: mean(folds.map((f, i) => f.receivedAt - posts[i])),
    mainGcMs:
      gcs.filter((g) => g.start >= calibStart && g.start <= calibEnd).reduce((a, g) => a + g.ms, 0) / feeds.length,
    // after the last run, the last fold alone
    tailMs: runs.length ? calibEnd - runs[runs.length - 1].end : NaN,
  };
  return { stats, ms, cpuMs: (cpu.user + cpu.system) / 1000, runs, timeline };
}
const fetchAll = await timedCalibrate(calib, { onFoldPath: (note) => notes.push(note) });
const overlapped = fetchAll.stats;
const overlapMs = fetchAll.ms;
const timeline = fetchAll.timeline;
// The page's calibration: only the plan's tensors fetched, the rest recomputed in the fold worker
// (onnx/derivedTensors.ts), its statistics checked equal to the fetch-everything fold's below.
let recompute = null;
if (process.env.QS_RECOMPUTE) {
  const raw = JSON.parse(readFileSync(process.env.QS_RECOMPUTE, 'utf8'));
  const plan = {
    fetched: raw.fetched,
    steps: raw.steps.map((s) => ({
      ...s,
      inputs: s.inputs.map((i) => (typeof i === 'string' ? i : { data: Float32Array.from(i.data), dims: i.dims })),
    })),
  };
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(process.env.QS_RECOMPUTE_MODEL)));
  await session.run({ x: tensor(feeds[0]) }, plan.fetched); // warm-up, as the other sessions had
  const pageNotes = [];
  const page = await timedCalibrate(session, { recompute: plan, onFoldPath: (note) => pageNotes.push(note) });
  const got = page.stats;
  // the same calibration with the fold in this thread, one sample after the other (no fold worker):
  // where the inference already takes every core, the worker only takes turns with it
  const inThreadCpu0 = process.cpuUsage();
  const inThreadT0 = performance.now();
  const inThreadStats = await calibrate(ort, session, source, tensors, { recompute: plan });
  const inThreadMs = performance.now() - inThreadT0;
  const inThreadCpuMs = cpuOf(process.cpuUsage(inThreadCpu0));
  // the run alone, fetching the plan's tensors (no fold): the floor of this calibration
  const floor = [];
  for (const d of feeds) {
    const t0 = performance.now();
    const r = await session.run({ x: tensor(d) }, plan.fetched);
    floor.push(performance.now() - t0);
    for (const k of plan.fetched) r[k].dispose?.();
  }
  let differ = 0;
  let differInThread = 0;
  const same = (a, b) =>
    a.histogram.counts.length === b.histogram.counts.length &&
    a.histogram.counts.every((v, j) => v === b.histogram.counts[j]) &&
    Object.is(a.minmax.min, b.minmax.min) &&
    Object.is(a.minmax.max, b.minmax.max);
  for (const k of tensors) if (!same(got[k], inThreadStats[k])) differInThread++;
  for (const k of tensors) {
    const a = stats[k];
    const b = got[k];
    if (
      a.histogram.counts.length !== b.histogram.counts.length ||
      a.histogram.counts.some((v, j) => v !== b.histogram.counts[j]) ||
      !Object.is(a.minmax.min, b.minmax.min) ||
      !Object.is(a.minmax.max, b.minmax.max)
    )
      differ++;
  }
  recompute = {
    calibMs: page.ms,
    cpuMs: page.cpuMs,
    runMs: page.timeline.runMs,
    timeline: page.timeline,
    note: pageNotes.join('; '),
    floorRunMs: floor.reduce((a, b) => a + b, 0) / floor.length,
    fetched: plan.fetched.length,
    recomputed: plan.steps.length,
    differingTensors: differ,
    inThreadMs,
    inThreadCpuMs,
    differingInThread: differInThread,
  };
}

let differing = 0;
for (const k of tensors) {
  const a = stats[k].histogram.counts;
  const b = overlapped[k].histogram.counts;
  if (a.length !== b.length || a.some((v, j) => v !== b[j]) || stats[k].minmax.min !== overlapped[k].minmax.min)
    differing++;
}

// One sample's activations copied into fresh arrays, as each CPU output is copied out of the wasm heap.
const copyOut = () => {
  const t0 = performance.now();
  for (const k of tensors) new Float32Array(first[k].data.length).set(first[k].data);
  return performance.now() - t0;
};
copyOut();
const copyMs = Math.min(copyOut(), copyOut(), copyOut());
// The calibration model (every activation a graph output, so onnxruntime fuses less and cannot reuse
// their buffers) fetching only the model's own output: what the extra outputs cost without copying out.
const ownOutputMs = [];
for (const d of feeds.slice(0, 3)) {
  const t0 = performance.now();
  await calib.run({ x: tensor(d) }, [plain.outputNames[0]]);
  ownOutputMs.push(performance.now() - t0);
}

console.log(
  JSON.stringify({
    plainMs,
    plainCpuMs,
    calibMs,
    runMs,
    runCpuMs,
    cpuMs: (cpuInThread.user + cpuInThread.system) / 1000,
    foldMs: calibMs - runMs,
    foldCpuMs,
    samples: feeds.length,
    runFreesCaller: { ticks, runMs: probeMs },
    overlap: {
      calibMs: overlapMs,
      cpuMs: fetchAll.cpuMs,
      note: notes.join('; '),
      differingTensors: differing,
      timeline,
    },
    recompute,
    copyOutMsPerSample: copyMs,
    ownOutputRunMs: Math.min(...ownOutputMs),
    memory: {
      peakRss: peakRssInThread,
      peakRssOverlap: process.resourceUsage().maxRSS * 1024,
      rssBeforeCalibration: rssBefore,
      modelBytes: statSync(plainPath).size,
      sampleActivationBytes: sampleBytes,
      largestActivationBytes: largestBytes,
    },
  }),
);
