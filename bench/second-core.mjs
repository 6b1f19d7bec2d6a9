// How independent this machine's second core is: plain inference of the sample on onnxruntime-web WASM
// (1 thread) alone, against the same runs while a second thread only computes (a register-bound loop:
// no memory traffic, no shared data). On two real cores the two figures match; where the second "core"
// shares the first one's execution units (SMT siblings, or an overcommitted VM), the runs slow down, and
// any work overlapped with inference (the fold worker's) costs the inference that much. Context for
// calibration_over_inference, whose overlap assumes a second core. Prints one JSON object on stdout.
// Usage: node bench/second-core.mjs plain.onnx in.f32 dims-json
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-web';

const [modelPath, inputPath, dimsJson] = process.argv.slice(2);
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(modelPath)));
const b = readFileSync(inputPath);
const x = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const feeds = { x: new ort.Tensor('float32', x, JSON.parse(dimsJson)) };

const runs = async (n) => {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await session.run(feeds);
    ms.push(performance.now() - t);
  }
  return ms;
};
// a thread that computes in registers until terminated, and says when it has started
const busyThread = () =>
  new Promise((resolve) => {
    const w = new Worker(
      `require('node:worker_threads').parentPort.postMessage('started');
       let a = 1; for (;;) { for (let i = 0; i < 1e7; i++) a = a * 1.0000001 + 1e-9; if (a === 0) break; }`,
      { eval: true },
    );
    w.once('message', () => resolve(w));
  });
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];

await runs(2); // warm-up
const alone = [];
const beside = [];
for (let round = 0; round < 3; round++) {
  alone.push(...(await runs(4)));
  const w = await busyThread();
  beside.push(...(await runs(4)));
  await w.terminate();
}
console.log(JSON.stringify({ aloneMs: median(alone), besideMs: median(beside) }));
