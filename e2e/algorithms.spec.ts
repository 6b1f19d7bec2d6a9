/**
 * GPTQ from the page: a user's conv net (Conv weights with blocks along the input channels, a MatMul),
 * correlated .npy data, weight-only int4 in blocks of 32 with *rounding: GPTQ*; the worker rounds each layer
 * from its inputs, the export reports every layer's loss against round-to-nearest's, and the download
 * runs in onnxruntime-node closer to float than the round-to-nearest download.
 */
import { expect, test } from '@playwright/test';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { compareTensors } from '../src/core/metrics';
import { mulberry32, normalSampler } from '../src/core/random';
import { join } from 'node:path';
import { makeNpy } from '../test/helpers/npy';
import { QuantscopePage } from './app';

/** Channel c = 0.8 · channel c−1 + noise, seeded. */
function correlated(seed: number): Float32Array {
  const g = normalSampler(mulberry32(seed));
  const x = new Float32Array(32 * 100);
  for (let c = 0; c < 32; c++)
    for (let p = 0; p < 100; p++) x[c * 100 + p] = g() + (c > 0 ? 0.8 * x[(c - 1) * 100 + p]! : 0);
  return x;
}

test('GPTQ in the page: rounded in the worker, reported per layer, closer to float', async ({ page }) => {
  test.setTimeout(240_000);
  const app = new QuantscopePage(page);
  await app.open();
  // test/helpers/models.ts blockConvNet(), pinned byte for byte by test/integration/weightRounding.node.test.ts
  const model = new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'test/fixtures/models/block-conv.onnx')));
  await app.loadModelFile('blocknet.onnx', Buffer.from(model));
  await expect(page.getByTestId('model-summary')).toBeVisible();
  // inputs whose channels are correlated (as real activations are): what GPTQ's error feedback uses
  const files = [0, 1, 2, 3, 4, 5].map((k) => ({
    name: `x${k}.npy`,
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(makeNpy('<f4', [1, 32, 10, 10], correlated(300 + k))),
  }));
  await page.getByLabel('Calibration data').setInputFiles(files);
  await expect(page.getByTestId('data-label')).toHaveText('6 tensor samples from your files');
  await app.calibrate(); // the explorer (Weights tab) opens on calibrated statistics

  await page.getByLabel('File form').selectOption('dq');
  await page.getByLabel('Weight-only dtype').selectOption('int4');
  await page.getByLabel('Weight-only granularity').selectOption('32');
  const download = async () => {
    const [d] = await Promise.all([
      page.waitForEvent('download', { timeout: 180_000 }),
      page.getByRole('button', { name: 'Export' }).click(),
    ]);
    return new Uint8Array(readFileSync((await d.path())!));
  };
  const rtn = await download();
  await page.getByLabel('Weight rounding').selectOption('gptq');
  const gptq = await download();
  const report = page.getByTestId('rounding-report');
  await expect(report).toContainText('3 weights rounded by gptq');
  await expect(report).toContainText("below round-to-nearest's on 3");
  // the Weights tab: each weight's error before and after, and the choice per node
  await page.getByRole('tab', { name: /Weights/ }).click();
  await expect(page.getByTestId('node-rounding-error')).toContainText(
    /gptq: calibration loss .* \(round to nearest\) →/,
  );

  const x = correlated(77);
  const run = async (bytes: Uint8Array) => {
    const s = await ort.InferenceSession.create(bytes);
    return (await s.run({ X: new ort.Tensor('float32', x, [1, 32, 10, 10]) })).Y!.data as Float32Array;
  };
  const f = await run(model);
  // measured: round-to-nearest 16.5 dB, GPTQ 18.8 dB on a held-out input (as in the Node test)
  expect(compareTensors(f, await run(gptq)).sqnrDb).toBeGreaterThan(compareTensors(f, await run(rtn)).sqnrDb + 1);
  await app.screenshot('algorithms-gptq');
});

test('SmoothQuant and bias correction in the page: run in the worker at export, reported, closer to float', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const app = new QuantscopePage(page);
  await app.open();
  const { encodeModel } = await import('../src/onnx/codec');
  const { outlierBlock } = await import('../test/helpers/models');
  const model = encodeModel(outlierBlock());
  await app.loadModelFile('block.onnx', Buffer.from(model));
  await expect(page.getByTestId('model-summary')).toBeVisible();
  const g = normalSampler(mulberry32(900));
  const files = [0, 1, 2, 3, 4, 5].map((k) => ({
    name: `x${k}.npy`,
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(
      makeNpy(
        '<f4',
        [1, 16, 32],
        Float32Array.from({ length: 512 }, () => g()),
      ),
    ),
  }));
  await page.getByLabel('Calibration data').setInputFiles(files);
  await expect(page.getByTestId('data-label')).toHaveText('6 tensor samples from your files');
  await app.calibrate();
  const download = async () => {
    const [d] = await Promise.all([
      page.waitForEvent('download', { timeout: 180_000 }),
      page.getByRole('button', { name: 'Export' }).click(),
    ]);
    return new Uint8Array(readFileSync((await d.path())!));
  };
  const plain = await download();
  await page.getByLabel('SmoothQuant').check();
  await page.getByLabel('Bias correction').check();
  const smoothed = await download();
  const report = page.getByTestId('algorithms-report');
  await expect(report).toContainText('1 inputs smoothed; 3 biases corrected');
  await report.locator('summary').click();
  await expect(report).toContainText('1/s folded into LayerNormalization');
  const x = Float32Array.from({ length: 512 }, () => g());
  const run = async (bytes: Uint8Array) => {
    const s = await ort.InferenceSession.create(bytes);
    return (await s.run({ X: new ort.Tensor('float32', x, [1, 16, 32]) })).Y!.data as Float32Array;
  };
  // per node (the Weights tab): proj_a's input left alone, so proj_b alone takes the scales through a Mul
  await page.getByRole('tab', { name: /Weights/ }).click();
  await page
    .getByTestId('weight-list')
    .getByRole('button', { name: /MatMul proj_a/ })
    .click();
  await page.getByLabel('Node input smoothing').selectOption('off');
  await download();
  await expect(report).toContainText('1 inputs smoothed');
  await expect(report).toContainText(/smoothed ln → proj_b .*1\/s folded into Mul/);
  const f = await run(model);
  // measured in Node (test/integration/modelAlgorithms.cli.node.test.ts): 16.2 dB without, 36.6 dB with SmoothQuant
  expect(compareTensors(f, await run(smoothed)).sqnrDb).toBeGreaterThan(
    compareTensors(f, await run(plain)).sqnrDb + 10,
  );
  await app.screenshot('algorithms-smoothquant');
});
