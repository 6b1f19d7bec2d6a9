/**
 * WebGPU on the software (SwiftShader) adapter that headless Chromium offers with
 * --enable-unsafe-webgpu: correct but 60-100x slower than WASM, so only a tiny model here.
 */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QuantscopePage } from './app';

test('a tiny model calibrates on the WebGPU backend when an adapter exists', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  const adapter = await page.evaluate(async () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return gpu ? (await gpu.requestAdapter()) !== null : false;
  });
  test.skip(!adapter, 'this browser has no WebGPU adapter');
  await app.loadModelFile('tiny-conv.onnx', readFileSync(join(import.meta.dirname, '..', 'test/fixtures/models/tiny-conv.onnx')));
  await expect(page.getByTestId('model-summary')).toContainText('tiny-conv.onnx');
  await page.getByLabel('Backend').selectOption('webgpu');
  await app.calibrateButton().click();
  await app.waitCalibrated(200_000);
  await expect(page.getByTestId('session-info')).toContainText('webgpu');
  await expect(page.getByTestId('histogram')).toBeVisible();
});
