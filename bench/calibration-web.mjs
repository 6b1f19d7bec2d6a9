// Calibration over plain inference for the sample, on onnxruntime-web's WASM backend (the kernels
// the page runs), in a process of its own. Prints one JSON object on stdout.
// Usage: node bench/calibration-web.mjs plain.onnx calibration.onnx tensors.json threads in0.f32 ...
//
// Also measured here:
//  - whether a WASM run frees the calling thread (event-loop ticks while `run` is awaited): folding
//    sample i while sample i+1 runs needs it; where it does not, calibration folds one sample at a time;
//  - peak memory (getrusage's maxRSS, the whole process) against the model and the activations.
import { readFileSync, statSync } from 'node:fs';
import * as ort from 'onnxruntime-web';

const [plainPath, calibPath, tensorsPath, threads, ...inputs] = process.argv.slice(2);
ort.env.wasm.numThreads = Number(threads);
const tensors = JSON.parse(readFileSync(tensorsPath, 'utf8'));
const { foldTensor, emptyStats } = await import(process.env.QS_CALIBRATE_MODULE);
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

let t = performance.now();
for (const d of feeds) await plain.run({ x: tensor(d) });
const plainMs = performance.now() - t;
const rssBefore = process.memoryUsage().rss;
t = performance.now();
let runMs = 0;
// The fold's CPU time too (the process's, taken while only the fold runs): on a loaded machine the
// wall time of the fold moves with the other processes far more than its CPU time does.
let foldCpuMs = 0;
let stats = emptyStats(tensors);
for (const d of feeds) {
  const t1 = performance.now();
  const r = await calib.run({ x: tensor(d) }, tensors);
  runMs += performance.now() - t1;
  const c0 = process.cpuUsage();
  const next = {};
  for (const k of tensors) next[k] = foldTensor(stats[k], k, r[k].data);
  stats = next;
  const c = process.cpuUsage(c0);
  foldCpuMs += (c.user + c.system) / 1000;
}
const calibMs = performance.now() - t;
console.log(
  JSON.stringify({
    plainMs,
    calibMs,
    runMs,
    foldMs: calibMs - runMs,
    foldCpuMs,
    samples: feeds.length,
    runFreesCaller: { ticks, runMs: probeMs },
    memory: {
      peakRss: process.resourceUsage().maxRSS * 1024,
      rssBeforeCalibration: rssBefore,
      modelBytes: statSync(plainPath).size,
      sampleActivationBytes: sampleBytes,
      largestActivationBytes: largestBytes,
    },
  }),
);
