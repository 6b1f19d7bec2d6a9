/**
 * Guard rails in the page: a user's model starts with no data chosen; a selection with a stray file
 * keeps the good ones and lists the stray one with its reason; an export whose middle tensor needs
 * more than 8 bits shows the alert next to its download (offering Tune), one that meets the target shows none; a
 * recurrent model (Silero VAD v5) calibrated in streaming order names the inputs it chained, with sr
 * fixed automatically from the data.
 */
import { toBinary } from '@bufbuild/protobuf';
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TensorProtoSchema } from 'onnx-buf';
import { encodeModel } from '../src/onnx/codec';
import { bytesOf, makeTensor } from '../src/onnx/proto';
import { DT } from '../src/onnx/tensor';
import { outlierModel } from '../test/helpers/guardModels';
import { makeNpy } from '../test/helpers/npy';
import { sileroChunk } from '../test/helpers/sileroData';
import { QuantscopePage } from './app';

const ROOT = join(import.meta.dirname, '..');
const tiny = () => readFileSync(join(ROOT, 'test/fixtures/models/tiny-conv.onnx'));
const npy = (name: string, k: number) => ({
  name,
  mimeType: 'application/octet-stream',
  buffer: Buffer.from(
    makeNpy(
      '<f4',
      [1, 3, 8, 8],
      Float32Array.from({ length: 192 }, (_, i) => Math.sin(i + k)),
    ),
  ),
});

test("a user's model starts with no data; a stray file is refused by name and the good ones kept", async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.useSample(); // the sample brings its documents…
  await expect(page.getByTestId('data-label')).toContainText('rendered document images');
  await app.loadModelFile('tiny-conv.onnx', tiny()); // …a user's model does not keep them
  await expect(page.getByTestId('model-summary')).toContainText('tiny-conv.onnx');
  await expect(page.getByTestId('data-label')).toContainText('No calibration data chosen');
  await expect(app.calibrateButton()).toBeDisabled();
  // the built-in documents are offered by name, as suited to OCR models
  await expect(page.getByRole('button', { name: 'Built-in documents (for OCR models)' })).toBeVisible();

  await page
    .getByLabel('Calibration data')
    .setInputFiles([
      ...[0, 1, 2].map((k) => npy(`x${k}.npy`, k)),
      { name: 'index.json', mimeType: 'application/json', buffer: Buffer.from('{"files": 3}') },
    ]);
  await expect(page.getByTestId('data-label')).toHaveText('3 tensor samples from your files');
  const refused = page.getByTestId('refused-files');
  await expect(refused).toContainText('1 file left out, the others kept');
  await expect(refused.getByRole('listitem')).toHaveCount(1);
  await expect(refused.getByRole('listitem')).toContainText(
    'index.json: not a calibration data file (images, .npy, .npz or input_N.pb)',
  );
  await expect(page.getByTestId('data-error')).toHaveCount(0);
  await expect(app.calibrateButton()).toBeEnabled();
});

async function exportBuilt(app: QuantscopePage, name: string, gain: number) {
  const page = app.page;
  await app.loadModelFile(name, Buffer.from(encodeModel(outlierModel(gain))));
  await expect(page.getByTestId('model-summary')).toContainText(name);
  const use = page.getByRole('button', { name: 'Use generated data' });
  if (!(await use.isVisible())) await page.getByRole('button', { name: 'Generate data…' }).click(); // a toggle
  await use.click();
  await app.calibrate();
  await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export', exact: true }).click()]);
  await expect(page.getByTestId('export-result')).toBeVisible();
}

test('the guard rail: an export that misses the target says so next to its download; one that meets it does not', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  await app.open();
  await exportBuilt(app, 'outlier-x1000.onnx', 1000);
  const alert = page.getByTestId('export-result').getByRole('alert');
  await expect(alert).toContainText(/output SQNR -?\d+\.\d dB against a target of 20\.0 dB/);
  await expect(alert).toContainText('output out');
  await expect(alert).toContainText("the calibration data's last");
  await expect(alert.getByRole('link', { name: 'Change the choices' })).toBeVisible();
  await expect(alert).toContainText('quantscope tune');
  // Export is pressed at the top of the side panel: the alert is brought into view, not left below its fold
  await expect(alert).toBeInViewport({ ratio: 0.9 });
  await app.screenshot('guard-alert-in-view');
  // it offers Tune: the link brings the Tune button (in the action bar) into focus, ready to press
  await alert.getByRole('link', { name: 'Let Tune find a setting that meets it' }).click();
  await expect(page.getByRole('button', { name: 'Tune', exact: true })).toBeFocused();
  await expect(page.getByRole('button', { name: 'Tune', exact: true })).toBeEnabled();
  await app.screenshot('guard-alert');

  await exportBuilt(app, 'outlier-x1.onnx', 1);
  await expect(page.getByTestId('guard-pass')).toContainText(
    /output SQNR \d+\.\d dB on output out, meets the 20\.0 dB target/,
  );
  await expect(page.getByTestId('export-result').getByRole('alert')).toHaveCount(0);
});

test('a file with external data not run against the float model is judged by its weights: a broken one trips the alert', async ({
  page,
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'quantscope-weight-guard-'));
  try {
    // the ONNX layer's JSON does not load in Playwright's loader: the model is written by a script
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/make-weight-guard-model.ts'), dir], {
      cwd: ROOT,
    });
    const app = new QuantscopePage(page);
    await app.open();
    await page.getByLabel('Load model').setInputFiles([join(dir, 'broken.onnx'), join(dir, 'broken.onnx_data')]);
    await expect(page.getByTestId('model-summary')).toContainText('broken.onnx');
    // int4 per channel: the heavy-tailed l0_up keeps about 13 dB of its signal (the others over 20)
    await page.getByLabel('File form').selectOption('dq');
    await page.getByLabel('Weight-only dtype').selectOption('int4');
    await page.getByLabel('Weight-only granularity').selectOption('channel');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    const alert = page.getByTestId('export-result').getByRole('alert');
    await expect(alert).toContainText(/weight SQNR \d+\.\d dB against a target of 20\.0 dB/);
    await expect(alert).toContainText('worst weight l0_up');
    await expect(alert).toContainText('14 quantized weights checked tensor by tensor');
    await expect(alert.getByRole('link', { name: 'Let Tune find a setting that meets it' })).toBeVisible();
    // int8 per channel keeps every weight above the target: no alert, the check in one line
    await page.getByLabel('Weight-only dtype').selectOption('int8');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    await expect(page.getByTestId('guard-pass')).toContainText(/weight SQNR \d+\.\d dB on worst weight \S+, meets/);
    await expect(page.getByTestId('export-result').getByRole('alert')).toHaveCount(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Silero VAD: sr fixed from the data, calibrated in streaming order, the chained input named', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.loadModelFile(
    'silero_vad_v5.onnx',
    readFileSync(join(ROOT, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx')),
  );
  await expect(page.getByTestId('model-summary')).toContainText('silero_vad_v5.onnx');
  // said before any run: every quantizable node sits in the If on sr, and how the page fixes it
  const nothing = page.getByTestId('calibrate-nothing');
  await expect(nothing).toContainText('As the model stands, nothing to calibrate at the top level');
  await expect(nothing).toContainText('give "Fix sr" in step 1');
  await expect(page.getByTestId('canvas-intro')).toContainText('As the model stands there is nothing to calibrate');
  const pb = (t: ReturnType<typeof makeTensor>, name: string) => ({
    name,
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(toBinary(TensorProtoSchema, t)),
  });
  const files = Array.from({ length: 6 }, (_, k) => [
    pb(makeTensor('input', DT.FLOAT, [1, 512], bytesOf(sileroChunk(k))), 'input_0.pb'),
    pb(makeTensor('state', DT.FLOAT, [2, 1, 128], bytesOf(new Float32Array(256))), 'input_1.pb'),
    pb(makeTensor('sr', DT.INT64, [], bytesOf(BigInt64Array.of(16000n))), 'input_2.pb'),
  ]).flat();
  await page.getByLabel('Calibration data').setInputFiles(files);
  await expect(page.getByTestId('data-label')).toHaveText('6 tensor samples from your files');
  await expect(nothing).toContainText('Calibrate checks your files for one value first.');
  await page.getByTestId('chain-recurrent').getByRole('checkbox').check();
  await expect(page.getByTestId('chain-recurrent')).toContainText('feed stateN back into state');
  await app.calibrate();
  await expect(page.getByTestId('calibration-note')).toContainText('fixed sr = 16000 automatically');
  await expect(nothing).toHaveCount(0); // sr fixed: the branch folded into the graph
  await expect(page.getByTestId('chained-inputs')).toContainText('chained state');
});

test('generated data names the dynamic dimensions it needs before it can be used (Silero VAD legacy)', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.loadModelFile(
    'silero_vad_legacy.onnx',
    readFileSync(join(ROOT, 'node_modules/@ricky0123/vad-web/dist/silero_vad_legacy.onnx')),
  );
  await expect(page.getByTestId('model-summary')).toContainText('silero_vad_legacy.onnx');
  await page.getByRole('button', { name: 'Generate data…' }).click();
  const use = page.getByRole('button', { name: 'Use generated data' });
  // batch leads "input" but is the middle axis of the LSTM state h and c: both need a value
  await expect(page.getByTestId('generated-missing-dims')).toContainText('Give sequence and batch a value first');
  await expect(use).toBeDisabled();
  await page.getByLabel('Value of sequence').fill('512');
  await expect(page.getByTestId('generated-missing-dims')).toContainText('Give batch a value first');
  await page.getByLabel('Value of batch').fill('1');
  await expect(page.getByTestId('generated-missing-dims')).toHaveCount(0);
  await use.click();
  await expect(page.getByTestId('data-label')).toHaveText('16 generated samples');
});
