/**
 * The page's PyTorch preset menu on the textbook eager example (test/fixtures/pytorch): choosing
 * "PyTorch fbgemm" sets PyTorch's choices, calibration keeps the HistogramObserver's histograms, and
 * the downloaded file carries PyTorch's scale and zero point on the stub's input and the model's
 * output, with the Linear's output quantized before the ReLU.
 */
import { expect, test } from '@playwright/test';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QuantscopePage } from './app';

const FIXTURES = join(import.meta.dirname, '..', 'test', 'fixtures', 'pytorch');
const fx = JSON.parse(readFileSync(join(FIXTURES, 'observers.json'), 'utf8')) as {
  model: string;
  calibration: string[];
  backends: Record<string, { activations: Record<string, { scale: number; zeroPoint: number }> }>;
};

test('the PyTorch fbgemm preset: PyTorch choices, and PyTorch scales in the download', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.loadModelFile(fx.model, readFileSync(join(FIXTURES, fx.model)));
  await page.getByLabel('Calibration data').setInputFiles(
    fx.calibration.map((f) => ({
      name: f.split('/').pop()!,
      mimeType: 'application/octet-stream',
      buffer: readFileSync(join(FIXTURES, f)),
    })),
  );
  await expect(page.getByTestId('data-label')).toHaveText('100 tensor samples from your files');

  await page.getByLabel('Preset', { exact: true }).selectOption('fbgemm');
  await expect(page.getByLabel('Activation dtype')).toHaveValue('uint8');
  await expect(page.getByLabel('Convention')).toHaveValue('pytorch');
  await expect(page.getByLabel('Reduce range')).toBeChecked();
  await expect(page.getByLabel('Range method', { exact: true })).toHaveValue('histogram-observer');
  // a change by hand leaves the preset
  await page.getByLabel('Reduce range').uncheck();
  await expect(page.getByLabel('Preset', { exact: true })).toHaveValue('custom');
  await page.getByLabel('Preset', { exact: true }).selectOption('fbgemm');

  await app.calibrate();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  const m = fromBinary(ModelProtoSchema, new Uint8Array(readFileSync((await download.path())!)));
  const inits = new Map(m.graph!.initializer.map((t) => [t.name, t.rawData]));
  const scale = (name: string) =>
    new DataView(inits.get(name)!.buffer, inits.get(name)!.byteOffset).getFloat32(0, true);
  const want = fx.backends.fbgemm!.activations;
  // the stub's input is the data itself: PyTorch's scale exactly
  expect(scale('input_scale')).toBe(want['quant.activation_post_process']!.scale);
  expect(inits.get('input_zero_point')![0]).toBe(want['quant.activation_post_process']!.zeroPoint);
  // the Linear's output before the ReLU and the model's output carry PyTorch's zero points
  expect(inits.get('/fc1/Gemm_output_0_zero_point')![0]).toBe(want['fc1.activation_post_process']!.zeroPoint);
  expect(inits.get('output_zero_point')![0]).toBe(want['fc2.activation_post_process']!.zeroPoint);
  expect(m.graph!.node.filter((n) => n.opType === 'QuantizeLinear')).toHaveLength(4);
});
