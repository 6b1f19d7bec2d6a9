/**
 * The memory estimate before calibrating (runtime/pageMemory.ts): a budget too small for even one
 * tensor is refused in words with the numbers and the page stays usable; one too small for every
 * tensor at once calibrates in passes over subsets, said so, with the one-pass ranges.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeNpy } from '../test/helpers/npy';
import { QuantscopePage } from './app';

const ROOT = join(import.meta.dirname, '..');

async function setBudget(page: Page, extraTensors: number | null): Promise<void> {
  await page.evaluate((n) => {
    const store = (
      window as unknown as {
        quantscope: { getState(): { model: { summary: { parameterBytes: number } } }; setState(s: object): void };
      }
    ).quantscope;
    // the weights twice (the bytes sent and onnxruntime's copy) and room for `n` tensors of 768 bytes
    const weights = 2 * store.getState().model.summary.parameterBytes;
    store.setState({ memoryBudget: n === null ? 100 : weights + n * 768 });
  }, extraTensors);
}

test('a calibration that cannot fit is refused with the numbers; one that fits in passes runs in passes', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.loadModelFile('tiny-conv.onnx', readFileSync(join(ROOT, 'test/fixtures/models/tiny-conv.onnx')));
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

  await setBudget(page, null);
  await app.calibrateButton().click();
  const error = page.getByTestId('calibration-error');
  await expect(error).toHaveAttribute('data-code', 'MODEL_TOO_LARGE');
  await expect(error).toContainText('calibration needs at least');
  await expect(error).toContainText('this runtime gives 0.1 KiB');

  // room for the weights and four 768-byte tensors: a pass holds two (with its working copies)
  await setBudget(page, 4);
  await app.calibrate();
  await expect(page.getByTestId('calibration-note')).toContainText(/calibrating in [2-9] passes over subsets/);
  const extremes = () =>
    page.evaluate(() => {
      const s = (
        window as unknown as {
          quantscope: {
            getState(): { calibration: { stats: Record<string, { minmax: { min: number; max: number } }> } };
          };
        }
      ).quantscope.getState();
      return Object.fromEntries(Object.entries(s.calibration.stats).map(([k, t]) => [k, [t.minmax.min, t.minmax.max]]));
    });
  const inPasses = await extremes();
  expect(Object.keys(inPasses).length).toBeGreaterThan(2);

  // the same data in one pass (this browser's budget): every tensor's range is the same
  await page.evaluate(() =>
    (window as unknown as { quantscope: { setState(s: object): void } }).quantscope.setState({ memoryBudget: null }),
  );
  // the passes' note goes with the run that had it
  await app.calibrate();
  await expect(page.getByTestId('calibration-note')).toHaveCount(0);
  expect(await extremes()).toEqual(inPasses);
});
