/**
 * Calibration over plain inference in the page itself (the figure a user waits on), on the sample in
 * Debian's Chromium: the page calibrates det on its 16 documents (onnxruntime-web WASM in the calibration
 * worker, the fold in its fold worker), then times plain inference of the float model in the same browser
 * ("Measure speed in this browser": the median of 10 runs). Both calibrations are printed, the first
 * with its session's first run (the wasm heap growing), the second warm. Target 1.3, as the Node figure.
 */
import { expect, test } from '@playwright/test';
import { QuantscopePage } from '../../e2e/app';

/** "Calibrated in 11.0 s (inference 7.3 s)." → ms. */
async function calibrated(app: QuantscopePage): Promise<{ ms: number; inferenceMs: number; samples: number }> {
  await app.calibrate();
  const text = (await app.page.getByTestId('calibration-status').textContent()) ?? '';
  const m = /Calibrated in ([\d.]+) s \(inference ([\d.]+) s\)/.exec(text);
  if (!m) throw new Error(`no calibration time in "${text}"`);
  const progress = (await app.page.getByTestId('calibration-progress').textContent()) ?? '';
  const samples = Number(/\/ (\d+) samples/.exec(progress)?.[1]);
  return { ms: Number(m[1]) * 1000, inferenceMs: Number(m[2]) * 1000, samples };
}

test('calibration over plain inference in the page', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.useSample();
  const first = await calibrated(app);
  const second = await calibrated(app);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  await download.path();
  await page.getByRole('button', { name: 'Measure speed in this browser' }).click();
  const row = page.getByTestId('speed-table').locator('tbody tr').first();
  await expect(row).toBeVisible({ timeout: 180_000 });
  // "55 ms, 96.3 ms": the float model's session, then its median run
  const floatCell = (await row.locator('td').nth(1).textContent()) ?? '';
  const plainMs = Number(/, ([\d.]+) ms/.exec(floatCell)?.[1]);
  if (!Number.isFinite(plainMs)) throw new Error(`no float median in "${floatCell}"`);
  const session = (await page.getByTestId('session-info').textContent()) ?? '';
  for (const [name, c] of [
    ['calibration_over_inference_page', second],
    ['calibration_over_inference_page_first', first],
  ] as const)
    console.log(
      `BENCH ${JSON.stringify({
        name,
        value: Number((c.ms / c.samples / plainMs).toFixed(3)),
        unit: 'ratio',
        target: 1.3,
        ms_per_sample: Math.round(c.ms / c.samples),
        runs_ms_per_sample: Math.round(c.inferenceMs / c.samples),
        plain_ms: plainMs,
        samples: c.samples,
        session,
        note: 'the page calibrating det (Chromium, onnxruntime-web WASM) per sample over the float model’s median run in the same page; runs: the calibration runs alone (fetching the tensors the fold cannot recompute)',
      })}`,
    );
});
