/**
 * Export forms from the page, without calibrating: weight-only int8 (DequantizeLinear) and q4f16
 * (MatMulNBits + float16) of the recognition sample; each download runs in onnxruntime-node and agrees
 * with the float model on a held-out line.
 */
import { expect, test } from '@playwright/test';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sqnr } from '../src/core/metrics';
import { decodePng, imageToTensor, PPOCR_REC_PRESET } from '../src/data/image';
import { QuantscopePage } from './app';

const ROOT = join(import.meta.dirname, '..');
const FLOAT_MODEL = join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');

test('weight-only int8 and q4f16 downloads of the recognition sample run and agree with float', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await page.getByRole('button', { name: /text recognition/ }).click();
  await expect(page.getByTestId('model-summary')).toBeVisible({ timeout: 60_000 });
  const line = imageToTensor(
    decodePng(new Uint8Array(readFileSync(join(ROOT, 'public', 'samples', 'rec', 'line-20.png')))),
    PPOCR_REC_PRESET,
  );
  const run = async (bytes: Uint8Array) => {
    const s = await ort.InferenceSession.create(bytes);
    return (await s.run({ x: new ort.Tensor('float32', line.data as Float32Array, line.dims) }))[s.outputNames[0]!]!
      .data as Float32Array;
  };
  const reference = await run(new Uint8Array(readFileSync(FLOAT_MODEL)));

  await page.getByLabel('File form').selectOption('dq');
  await expect(page.getByTestId('form-description')).toContainText('needs no calibration');
  const [int8] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  expect(int8.suggestedFilename()).toBe('ch_PP-OCRv4_rec_infer.int8-wo.onnx');
  const int8Bytes = new Uint8Array(readFileSync((await int8.path())!));
  await expect(page.getByTestId('export-result')).toContainText('weight-only DequantizeLinear');
  expect(sqnr(reference, await run(int8Bytes))).toBeGreaterThan(12); // measured 14.9 dB over held-out lines
  expect(int8Bytes.length / readFileSync(FLOAT_MODEL).length).toBeLessThan(0.3);

  await page.getByRole('button', { name: /q4f16/ }).click(); // the transformers.js preset
  const [q4f16] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  expect(q4f16.suggestedFilename()).toBe('model_q4f16.onnx');
  const q4Bytes = new Uint8Array(readFileSync((await q4f16.path())!));
  expect(sqnr(reference, await run(q4Bytes))).toBeGreaterThan(12);
  await expect(page.getByTestId('form-notes')).toContainText('float16');
  // what runs where, from the probed table, and the speed measured here
  await page.getByTestId('support-table').locator('summary').click();
  await expect(page.getByTestId('support-com.microsoft.MatMulNBits:4bit/float16')).toContainText('✓');
  await page.getByRole('button', { name: 'Measure speed in this browser' }).click();
  await expect(page.getByTestId('speed-ratio-wasm')).toContainText('×', { timeout: 120_000 });
  await expect(page.getByTestId('speed')).toContainText(
    /WebGPU: (no WebGPU adapter|this browser has no WebGPU|only a software fallback adapter)/,
  ); // why WebGPU was not timed
  await app.screenshot('50-export-forms');
});
