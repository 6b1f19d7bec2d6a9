/**
 * TFLite exports run in TFLite's own interpreter (@tensorflow/tfjs-tflite, TFLite compiled to
 * WebAssembly) in Chromium, loaded from the app (/tflite/, offline), and agree with the static QDQ
 * export of the same choices (onnxruntime-node). The files and the reference outputs are made by
 * test/helpers/tfliteE2eFiles.ts (the page's engine, calibrated on onnxruntime as the page does):
 * - a small CNN classifier built and trained there (its head: softmax regression on a 4-class pattern
 *   set): top-1 agreement and SQNR of the probabilities, float edges and int8 edges; the float32 and
 *   float16 files agree with the float model (the layout is right), and the same checks fail on images
 *   whose H and W are swapped;
 * - every other op the writer maps (BatchNormalization, Sub, Div, HardSigmoid, ConvTranspose, bilinear
 *   Resize, Concat, Pad, AveragePool, Slice, Tanh, Clip, Transpose, MaxPool, Reshape, Squeeze/Unsqueeze):
 *   float32 file against the float model, int8 file against the QDQ export;
 * - PP-OCRv4 det (depthwise convs, HardSigmoid, Resize, ConvTranspose): SQNR of the probability map;
 * - PaddleOCR's direction classifier, whose Reshapes take shapes computed at run time (fixed for the
 *   lines' shape): top-1 agreement with float and QDQ on upright and turned lines, SQNR against QDQ;
 * - the page's check of a .tflite against the float model (the file in TFLite's interpreter, the float model
 *   in onnxruntime-web): det's float32 file over 80 dB (its three channels laid out NHWC: the same check
 *   without the layout fails), and PaddleOCR's classifier on text lines (48x192 as PaddleOCR feeds it;
 *   then with the width free, on the calibration lines of the file's shape, said so);
 * - the page: the classifier calibrated on the same .npy files and exported as TFLite int8 with int8
 *   edges (run in TFLite before it is offered, then checked there against the float model, the report
 *   beside it) is the Node engine's file checked above (same ops, tensors, zero points; scales to 1e-6);
 *   a model with an unsupported op is refused by name.
 * Bounds sit below the values measured (in the comments).
 */
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqnr } from '../src/core/metrics';
import { encodeModel } from '../src/onnx/codec';
import { decodeTflite } from '../src/onnx/forms/tflite/flatbuffer';
import { makeNpy } from '../test/helpers/npy';
import { withUnsupportedOp } from '../test/helpers/tfliteModels';
import { QuantscopePage } from './app';
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
  // FullyConnected weights per output channel (the option): the same agreement
  const fc = await runFile(page, file('cls.int8fc.tflite'), nhwc);
  expect(fc.filter((o, i) => argmax(o) === argmax(qdq[i]!)).length / n).toBeGreaterThanOrEqual(0.95);
  expect(sqnr(flat(qdq), flat(fc))).toBeGreaterThan(20);

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

test('every other mapped op: the float32 file equals the float model, the int8 file agrees with the QDQ export', async ({
  page,
}) => {
  await page.goto('/');
  const n: number = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).zoo.count;
  const inputs = split(floats('zoo-nhwc.bin'), n);
  const both = async (name: string) =>
    flat(
      (
        await runTflite(
          page,
          file(name),
          inputs.map((x) => [x]),
        )
      ).flatMap((outs) => outs.map((o) => o.data)),
    );
  const f32 = sqnr(floats('zoo-float.bin'), await both('zoo.f32.tflite'));
  const int8 = sqnr(floats('zoo-qdq.bin'), await both('zoo.int8.tflite'));
  console.log(`ops zoo: float32 file against float ${f32.toFixed(1)} dB, int8 file against QDQ ${int8.toFixed(1)} dB`);
  expect(f32).toBeGreaterThan(80); // measured 143 dB
  expect(int8).toBeGreaterThan(30); // measured 48.2 dB
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

test("PaddleOCR's direction classifier: its run-time shapes computed for the lines' shape, TFLite int8 agrees with float and QDQ", async ({
  page,
}) => {
  await page.goto('/');
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).ocrcls;
  // Shape of the pooled features (Reshape to [N, -1]) and of the Softmax's input (opset 13's Reshape back)
  expect(meta.shapesFixed).toBe(2);
  expect(meta.ops).toEqual(expect.arrayContaining(['RESHAPE', 'FULLY_CONNECTED', 'SOFTMAX']));
  const n = meta.count as number;
  const outs = await runFile(page, file('ocrcls.int8.tflite'), split(floats('ocrcls-x.bin'), n));
  const got = split(flat(outs as Float32Array[]), n);
  const [float, qdq] = [split(floats('ocrcls-float.bin'), n), split(floats('ocrcls-qdq.bin'), n)];
  const agree = (ref: Float32Array[]) => got.filter((g, i) => argmax(g) === argmax(ref[i]!)).length;
  const s = sqnr(flat(qdq), flat(got));
  console.log(
    `PaddleOCR cls: TFLite int8 top-1 agrees with float on ${agree(float)} of ${n}, with QDQ on ${agree(qdq)}; probabilities ${s.toFixed(1)} dB against QDQ`,
  );
  // upright and turned lines: the float model tells them apart, and so does the file
  expect(new Set(float.map((f) => argmax(f))).size).toBe(2);
  expect(agree(float)).toBe(n);
  expect(agree(qdq)).toBe(n);
  expect(s).toBeGreaterThan(20);
});

test("the page checks a .tflite against the float model in TFLite's interpreter: det's map in NHWC, and only samples of the file's shape", async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  await app.open();
  // PP-OCRv4 det as TFLite float32 (no calibration needed), checked on the built-in documents (480x640, three
  // channels laid out NHWC): measured 106.1 dB against the float model in onnxruntime-web
  await app.useSample();
  await page.getByLabel('File form').selectOption('tflite-float32');
  await page.getByRole('button', { name: 'Export' }).click();
  const pass = page.getByTestId('guard-pass');
  await expect(pass).toContainText("the .tflite run in TFLite's interpreter", { timeout: 120_000 });
  const db = Number((await pass.textContent())!.match(/output SQNR ([\d.]+) dB on output sigmoid_0\.tmp_0/)![1]);
  expect(db).toBeGreaterThan(80);
  // PaddleOCR's direction classifier on the built-in text lines, preprocessed as PaddleOCR's cls does
  // (every line 48x192): the file takes [1, 48, 192, 3] and is checked on the split's lines
  await app.loadModelFile(
    'cls.onnx',
    readFileSync(join('node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx')),
  );
  await expect(page.getByTestId('model-summary')).toContainText('cls.onnx');
  await page.getByRole('button', { name: /Built-in text lines/ }).click();
  await expect(page.getByTestId('data-label')).toContainText('text line');
  await expect(page.getByLabel('Resize')).toHaveValue('height-pad');
  await page.getByLabel('File form').selectOption('tflite-float32');
  await page.getByRole('button', { name: 'Export' }).click();
  await expect(page.getByTestId('guard-pass')).toContainText(
    /top-1 agreement 100\.0% on output softmax_0\.tmp_0, meets the 99\.0% target \(the calibration data's last 4 of 16 samples, no held-out samples given .*; the \.tflite run in TFLite's interpreter\)/,
    { timeout: 60_000 },
  );
  await expect(page.getByTestId('tflite-input')).toContainText('x: float32 [1, 48, 192, 3]');
  // the width left free (each line by its aspect): the file takes the first line's width; the split's
  // lines are of others, so the check runs the calibration lines of that shape instead, and says so
  await page.getByLabel('Target width').fill('');
  await page.getByLabel('Resize').selectOption('stretch');
  await page.getByRole('button', { name: 'Export' }).click();
  await expect(page.getByTestId('guard-pass')).toContainText(
    /\(the check's samples are not of the file's input shape \[1, 3, 48, \d+\]: \d+ calibration samples? of that shape instead \(calibrated on too, so the check is optimistic\); the \.tflite run in TFLite's interpreter\)/,
    { timeout: 60_000 },
  );
  await app.screenshot('61-tflite-check');
});

test('the page: TFLite int8 of the classifier, run in TFLite before it is offered, with its report; a model with an unsupported op refused by name', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.loadModelFile('classifier.onnx', Buffer.from(file('cls.onnx')));
  await expect(page.getByTestId('model-summary')).toBeVisible();
  // calibrated on the 16 images the Node side calibrated its QDQ export on, as .npy files
  const calib = split(floats('cls-calib.bin'), 16);
  await page.getByLabel('Calibration data').setInputFiles(
    calib.map((x, k) => ({
      name: `img${k}.npy`,
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(makeNpy('<f4', [1, 1, 16, 16], x)),
    })),
  );
  await expect(page.getByTestId('data-label')).toHaveText('16 tensor samples from your files');
  await app.calibrate();
  await page.getByLabel('File form').selectOption('tflite-int8');
  await expect(page.getByTestId('form-description')).toContainText("TFLite's int8 specification");
  await page.getByLabel('TFLite inputs and outputs').selectOption('int8');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('classifier.int8.tflite');
  await expect(page.getByTestId('form-notes')).toContainText("ran in TFLite's interpreter");
  // the file itself, in TFLite's interpreter, against the float model in onnxruntime-web on the last 4 of the
  // 16 samples (int8 inputs quantized as TFLite's QUANTIZE rounds, outputs dequantized): 4 of 4 agree
  await expect(page.getByTestId('guard-pass')).toHaveText(
    /^Checked against the float model: top-1 agreement 100\.0% on output probs, meets the 99\.0% target \(the calibration data's last 4 of 16 samples, no held-out samples given .*; the \.tflite run in TFLite's interpreter\)\.$/,
  );
  await expect(page.getByTestId('tflite-micro-ready')).toContainText('Every op has an int8 kernel in TFLite Micro');
  await expect(page.getByTestId('tflite-op-HARD_SWISH')).toContainText('✓');
  await expect(page.getByTestId('tflite-arena')).toContainText('TFLite Micro tensor arena');
  await expect(page.getByTestId('tflite-input')).toContainText(
    /x: int8 \[1, 16, 16, 1\], scale [\d.]+, zero point -?\d+/,
  );
  // the download is the Node engine's file for the same data and choices (checked above against the QDQ
  // export), up to the last bit of a calibrated range (onnxruntime-web and -node differ there by an ulp)
  const bytes = new Uint8Array(readFileSync((await download.path())!));
  const [pg, nd] = [decodeTflite(bytes).subgraphs![0]!, decodeTflite(file('cls.io8.tflite')).subgraphs![0]!];
  expect(pg.operators).toEqual(nd.operators);
  expect(pg.tensors!.map((t) => [t.name, t.shape, t.type])).toEqual(nd.tensors!.map((t) => [t.name, t.shape, t.type]));
  pg.tensors!.forEach((t, i) => {
    const q = nd.tensors![i]!.quantization;
    expect(t.quantization?.zero_point, t.name).toEqual(q?.zero_point);
    t.quantization?.scale?.forEach((v, c) => expect(Math.abs(v / q!.scale![c]! - 1), t.name).toBeLessThan(1e-6));
  });
  await app.screenshot('60-tflite-export');

  // a model with an op TFLite has no builtin for: refused by node and op, nothing downloaded
  await app.loadModelFile('erf.onnx', Buffer.from(encodeModel(withUnsupportedOp())));
  await expect(page.getByTestId('model-summary')).toContainText('erf.onnx');
  await page.getByLabel('File form').selectOption('tflite-float32');
  await page.getByRole('button', { name: 'Export' }).click();
  await expect(page.getByTestId('export-error')).toContainText('node "the_erf" (Erf)');
});
