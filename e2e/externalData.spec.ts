/**
 * A model with external data in the page: its .onnx and data file picked together load (a missing or
 * short data file is named), and its q4 export (MatMulNBits) comes back as the .onnx plus the data
 * file it names, which together load in onnxruntime-node and agree with the float model. It also
 * calibrates (the worker's session gets the data file by the name the .onnx records) and exports as
 * static QDQ, checked against the float model in the page and again here.
 */
import { expect, test, type Download } from '@playwright/test';
import * as ort from 'onnxruntime-node';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqnr } from '../src/core/metrics';
import { makeNpy } from '../test/helpers/npy';
import { QuantscopePage } from './app';

const ROOT = join(import.meta.dirname, '..');

let dir = '';
let onnxPath = '';
let dataPath = '';

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quantscope-ext-'));
  // the ONNX layer's JSON does not load in Playwright's loader: the model is written by a script
  execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/make-external-model.ts'), dir], {
    cwd: ROOT,
  });
  onnxPath = join(dir, 'decoder.onnx');
  dataPath = join(dir, 'decoder.onnx_data');
});

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function logits(modelPath: string, tokens = [3n, 17n, 42n, 5n, 90n, 1n]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(modelPath);
  const ids = new ort.Tensor('int64', BigInt64Array.from(tokens), [1, tokens.length]);
  const out = (await s.run({ input_ids: ids })).logits!.data as Float32Array;
  await s.release();
  return out;
}

test('an .onnx with its data file, picked together, exports as q4 with its data file; both run in onnxruntime', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  await app.open();
  await page.getByLabel('Load model').setInputFiles([onnxPath, dataPath]);
  await expect(page.getByTestId('model-summary')).toContainText('decoder.onnx');

  await page.getByRole('button', { name: /^q4 \(MatMulNBits/ }).click();
  const downloads: Promise<Download>[] = [];
  page.on('download', (d) => downloads.push(Promise.resolve(d)));
  await page.getByRole('button', { name: 'Export' }).click();
  await expect(page.getByTestId('export-data-file')).toHaveText('model_q4.onnx_data');
  await expect.poll(() => downloads.length).toBe(2);
  const [onnx, data] = await Promise.all(downloads);
  expect(onnx!.suggestedFilename()).toBe('model_q4.onnx');
  expect(data!.suggestedFilename()).toBe('model_q4.onnx_data');
  const out = mkdtempSync(join(tmpdir(), 'quantscope-ext-out-'));
  try {
    copyFileSync((await onnx!.path())!, join(out, 'model_q4.onnx'));
    copyFileSync((await data!.path())!, join(out, 'model_q4.onnx_data'));
    // the .onnx is a small header naming its data file (the weights are there), with MatMulNBits nodes
    const header = readFileSync(join(out, 'model_q4.onnx'));
    expect(header.includes('model_q4.onnx_data')).toBe(true);
    expect(header.includes('MatMulNBits')).toBe(true);
    expect(header.length).toBeLessThan(readFileSync(join(out, 'model_q4.onnx_data')).length);
    const reference = await logits(onnxPath);
    expect(sqnr(reference, await logits(join(out, 'model_q4.onnx')))).toBeGreaterThan(10);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('an .onnx with its data file, dropped together, calibrates and exports as static QDQ that agrees with the float model', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await app.open();
  await app.dropModelFiles([
    { name: 'decoder.onnx', buffer: readFileSync(onnxPath) },
    { name: 'decoder.onnx_data', buffer: readFileSync(dataPath) },
  ]);
  await expect(page.getByTestId('model-summary')).toContainText('decoder.onnx');
  // token ids (int64 [1, 8]) as calibration data: the vocabulary is 96 tokens
  const files = [0, 1, 2, 3].map((k) => ({
    name: `ids${k}.npy`,
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(
      makeNpy(
        '<i8',
        [1, 8],
        BigInt64Array.from({ length: 8 }, (_, i) => BigInt((i * 37 + k * 11 + 5) % 96)),
      ),
    ),
  }));
  await page.getByLabel('Calibration data').setInputFiles(files);
  await expect(page.getByTestId('data-label')).toHaveText('4 tensor samples from your files');
  await app.calibrate();
  await expect(page.getByTestId('tensor-list').getByRole('button').first()).toBeVisible();

  const downloads: Promise<Download>[] = [];
  page.on('download', (d) => downloads.push(Promise.resolve(d)));
  await page.getByRole('button', { name: 'Export' }).click();
  await expect(page.getByTestId('export-data-file')).toHaveText('decoder.int8.onnx_data');
  // the page compared it with the float model (both sessions with their data files)
  await expect(page.getByTestId('guard-pass').or(page.getByTestId('guard-alert'))).toBeVisible();
  await expect.poll(() => downloads.length).toBe(2);
  const [onnx, data] = await Promise.all(downloads);
  expect(onnx!.suggestedFilename()).toBe('decoder.int8.onnx');
  expect(data!.suggestedFilename()).toBe('decoder.int8.onnx_data');
  const out = mkdtempSync(join(tmpdir(), 'quantscope-ext-qdq-'));
  try {
    copyFileSync((await onnx!.path())!, join(out, 'decoder.int8.onnx'));
    copyFileSync((await data!.path())!, join(out, 'decoder.int8.onnx_data'));
    const header = readFileSync(join(out, 'decoder.int8.onnx'));
    expect(header.includes('QuantizeLinear')).toBe(true);
    const tokens = [7n, 30n, 61n, 2n, 88n, 15n, 44n, 9n];
    const reference = await logits(onnxPath, tokens);
    const quantized = await logits(join(out, 'decoder.int8.onnx'), tokens);
    // a broken calibration (a range of 0 or of the wrong tensor) drops this far below
    expect(sqnr(reference, quantized)).toBeGreaterThan(20);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  expect(errors).toEqual([]);
});

test('a missing or short data file is named, and the page keeps working', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await page.getByLabel('Load model').setInputFiles([onnxPath]);
  const error = page.getByTestId('model-error');
  await expect(error).toHaveAttribute('data-code', 'EXTERNAL_DATA');
  await expect(error).toContainText('decoder.onnx keeps tensor');

  const short = join(dir, 'short', 'decoder.onnx_data');
  rmSync(join(dir, 'short'), { recursive: true, force: true });
  mkdirSync(join(dir, 'short'));
  copyFileSync(dataPath, short);
  truncateSync(short, 1000);
  await page.getByLabel('Load model').setInputFiles([onnxPath, short]);
  await expect(error).toHaveAttribute('data-code', 'EXTERNAL_DATA_SHORT');
  await expect(error).toContainText('decoder.onnx_data is 1000 bytes, too short');

  await page.getByLabel('Load model').setInputFiles([onnxPath, dataPath]);
  await expect(page.getByTestId('model-summary')).toContainText('decoder.onnx');
});

test('a folder picked with Load folder gives the model its data file', async ({ page }) => {
  const folder = join(dir, 'folder');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder);
  copyFileSync(onnxPath, join(folder, 'decoder.onnx'));
  copyFileSync(dataPath, join(folder, 'decoder.onnx_data'));
  const app = new QuantscopePage(page);
  await app.open();
  await page.getByLabel('Load folder').setInputFiles(folder);
  await expect(page.getByTestId('model-summary')).toContainText('decoder.onnx');
  await expect(page.getByTestId('model-error')).toHaveCount(0);
});
