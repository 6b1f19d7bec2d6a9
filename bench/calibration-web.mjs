// Calibration over plain inference for the sample, on onnxruntime-web's WASM backend (the kernels
// the page runs), in a process of its own. Prints one JSON object on stdout.
// Usage: node bench/calibration-web.mjs plain.onnx calibration.onnx tensors.json threads in0.f32 ...
import { readFileSync } from 'node:fs';
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
await calib.run({ x: tensor(feeds[0]) }, tensors);
let t = performance.now();
for (const d of feeds) await plain.run({ x: tensor(d) });
const plainMs = performance.now() - t;
t = performance.now();
let runMs = 0;
let stats = emptyStats(tensors);
for (const d of feeds) {
  const t1 = performance.now();
  const r = await calib.run({ x: tensor(d) }, tensors);
  runMs += performance.now() - t1;
  const next = {};
  for (const k of tensors) next[k] = foldTensor(stats[k], k, r[k].data);
  stats = next;
}
const calibMs = performance.now() - t;
console.log(JSON.stringify({ plainMs, calibMs, runMs, foldMs: calibMs - runMs, samples: feeds.length }));
