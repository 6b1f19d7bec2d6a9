/**
 * TFLite exports run in TFLite's own interpreter (@tensorflow/tfjs-tflite, TFLite compiled to
 * WebAssembly) in Chromium, loaded from the app (/tflite/, offline), and agree with the static QDQ
 * export of the same choices (onnxruntime-node). The files and the reference outputs are made by
 * test/helpers/tfliteE2eFiles.ts (the page's engine, calibrated on onnxruntime as the page does):
 * - a small CNN classifier built and trained there (its head: softmax regression on a 4-class pattern
 *   set): top-1 agreement and SQNR of the probabilities, float edges and int8 edges; the float32 and
 *   float16 files agree with the float model (the layout is right), and the same checks fail on images
 *   whose H and W are swapped;
 * - PP-OCRv4 det (depthwise convs, HardSigmoid, Resize, ConvTranspose): SQNR of the probability map.
 * Bounds sit below the values measured (in the comments).
 */
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqnr } from '../src/core/metrics';
import { runTflite } from './tflite';

let dir = '';
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'quantscope-tflite-'));
  execFileSync(process.execPath, ['--import', 'tsx', join('test', 'helpers', 'tfliteE2eFiles.ts'), dir], {
    stdio: 'inherit',
  });
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
const floats = (name: string) => {
  const b = readFileSync(join(dir, name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const split = (a: Float32Array, n: number) =>
  Array.from({ length: n }, (_, i) => a.subarray((i * a.length) / n, ((i + 1) * a.length) / n));
const argmax = (v: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
};
const flat = (xs: ArrayLike<number>[]) => Float32Array.from(xs.flatMap((x) => Array.from(x)));

async function runFile(page: Page, bytes: Uint8Array, inputs: (Float32Array | Int8Array)[]) {
  return (
    await runTflite(
      page,
      bytes,
      inputs.map((x) => [x]),
    )
  ).map((outs) => outs[0]!.data);
}

test('a trained CNN classifier: TFLite int8 agrees with the QDQ export, float32/float16 with the float model', async ({
  page,
}) => {
  await page.goto('/');
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).cls;
  const n: number = meta.count;
  expect(meta.trainAccuracy).toBeGreaterThan(0.9); // measured 1.0
  const nhwc = split(floats('cls-nhwc.bin'), n);
  const qdq = split(floats('cls-qdq.bin'), n);
  const float = floats('cls-float.bin');

  expect(sqnr(float, flat(await runFile(page, file('cls.f32.tflite'), nhwc)))).toBeGreaterThan(80);
  expect(sqnr(float, flat(await runFile(page, file('cls.f16.tflite'), nhwc)))).toBeGreaterThan(40);

  const int8 = await runFile(page, file('cls.int8.tflite'), nhwc);
  const top1 = int8.filter((o, i) => argmax(o) === argmax(qdq[i]!)).length / n;
  const s = sqnr(flat(qdq), flat(int8));
  console.log(`classifier: top-1 agreement with the QDQ export ${top1}, SQNR ${s.toFixed(1)} dB`);
  expect(top1).toBeGreaterThanOrEqual(0.95);
  expect(s).toBeGreaterThan(20); // measured 46.0 dB, top-1 1.0
  // the same bounds fail on images with H and W swapped (a layout mistake): stripes change class
  const swapped = nhwc.map((x) => Float32Array.from(x, (_, i) => x[(i % 16) * 16 + Math.floor(i / 16)]!));
  const wrong = await runFile(page, file('cls.int8.tflite'), swapped);
  expect(wrong.filter((o, i) => argmax(o) === argmax(qdq[i]!)).length / n).toBeLessThan(0.95);
  expect(sqnr(flat(qdq), flat(wrong))).toBeLessThan(20);

  // int8 edges: the caller quantizes with the reported input scale and zero point
  const { scale, zeroPoint } = meta.input;
  const out = meta.output;
  const q8 = nhwc.map((x) =>
    Int8Array.from(x, (v) => Math.min(127, Math.max(-128, Math.round(v / scale) + zeroPoint))),
  );
  const io8 = (await runFile(page, file('cls.io8.tflite'), q8)).map((o) =>
    Float32Array.from(o, (v) => (v - out.zeroPoint) * out.scale),
  );
  expect(io8.filter((o, i) => argmax(o) === argmax(qdq[i]!)).length / n).toBeGreaterThanOrEqual(0.95);
});

test('PP-OCRv4 det: TFLite int8 agrees with the QDQ export', async ({ page }) => {
  await page.goto('/');
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).det;
  expect(meta.ops).toEqual(
    expect.arrayContaining(['DEPTHWISE_CONV_2D', 'TRANSPOSE_CONV', 'RESIZE_NEAREST_NEIGHBOR', 'MEAN', 'LOGISTIC']),
  );
  expect(meta.microReady).toBe(true);
  const [out] = await runFile(page, file('det.int8.tflite'), [floats('det-x.bin')]);
  const s = sqnr(floats('det-qdq.bin'), out as Float32Array);
  console.log(
    `det: TFLite int8 map against the QDQ export ${s.toFixed(1)} dB, against float ${sqnr(floats('det-float.bin'), out as Float32Array).toFixed(1)} dB; ${meta.bytes} bytes, arena ${meta.arenaBytes}`,
  );
  expect(s).toBeGreaterThan(18); // measured 24.0 dB
});
