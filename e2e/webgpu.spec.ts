/**
 * WebGPU on the software (SwiftShader) adapter that headless Chromium offers with
 * --enable-unsafe-webgpu: correct but 60-100x slower than WASM, so only a tiny model here.
 * A run on WebGPU must give the statistics a WASM run gives, within a measured tolerance
 * (measured: max relative difference of any tensor's min/max about 1e-7; asserted 1e-4).
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QuantscopePage } from './app';

type Ranges = Record<string, [number, number]>;

async function ranges(page: Page): Promise<Ranges> {
  return page.evaluate(() => {
    const s = (
      window as unknown as {
        quantscope: {
          getState(): { calibration: { stats: Record<string, { minmax: { min: number; max: number } }> } };
        };
      }
    ).quantscope.getState();
    return Object.fromEntries(Object.entries(s.calibration.stats).map(([k, v]) => [k, [v.minmax.min, v.minmax.max]]));
  });
}

test('a tiny model calibrates on WebGPU, with the statistics WASM gives', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  const adapter = await page.evaluate(async () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return gpu ? (await gpu.requestAdapter()) !== null : false;
  });
  test.skip(!adapter, 'this browser has no WebGPU adapter');
  await app.loadModelFile(
    'tiny-conv.onnx',
    readFileSync(join(import.meta.dirname, '..', 'test/fixtures/models/tiny-conv.onnx')),
  );
  await expect(page.getByTestId('model-summary')).toContainText('tiny-conv.onnx');
  await app.useBuiltInDocuments();
  await page.getByLabel('Backend').selectOption('webgpu');
  await expect(page.getByTestId('webgpu-fallback')).toContainText('software fallback');
  await app.calibrate(200_000);
  await expect(page.getByTestId('session-info')).toContainText('webgpu');
  await expect(page.getByTestId('histogram')).toBeVisible();
  const gpu = await ranges(page);

  await page.getByLabel('Backend').selectOption('wasm');
  await app.calibrate();
  await expect(page.getByTestId('session-info')).toContainText('wasm');
  const cpu = await ranges(page);
  expect(Object.keys(gpu).sort()).toEqual(Object.keys(cpu).sort());
  let worst = 0;
  for (const [t, [lo, hi]] of Object.entries(cpu)) {
    const scale = Math.max(Math.abs(lo), Math.abs(hi), 1e-6);
    worst = Math.max(worst, Math.abs(gpu[t]![0] - lo) / scale, Math.abs(gpu[t]![1] - hi) / scale);
  }
  test.info().annotations.push({ type: 'webgpu-vs-wasm max relative difference', description: worst.toExponential(2) });
  console.log(`webgpu vs wasm: max relative difference of tensor ranges ${worst.toExponential(2)}`);
  expect(worst).toBeLessThan(1e-4);
});
