// Runs a model in onnxruntime-web (its Node build: WASM, the same kernels the page runs) in a
// process of its own: onnxruntime-web and onnxruntime-node must not share one.
// Usage: node ort-web-run.mjs model.onnx inputName dimsJSON in0.f32 [in1.f32 ...]  → writes inK.out.f32
// (inputs named *.i64 are int64 tensors, such as token ids)
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';

const [model, inputName, dimsJson, ...inputs] = process.argv.slice(2);
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(model)), {
  executionProviders: ['wasm'],
});
const dims = JSON.parse(dimsJson);
for (const file of inputs) {
  const buf = readFileSync(file);
  const bytes = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const tensor = file.endsWith('.i64')
    ? new ort.Tensor('int64', new BigInt64Array(bytes), dims)
    : new ort.Tensor('float32', new Float32Array(bytes), dims);
  const r = await session.run({ [inputName]: tensor });
  const out = r[session.outputNames[0]];
  writeFileSync(
    file.replace(/\.(f32|i64)$/, '.out.f32'),
    new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength),
  );
}
console.log(JSON.stringify({ ok: true, outputs: inputs.length }));
