/** The explorer's drag of a tensor's upper range handle, shared by e2e/explorer.spec.ts and the bench. */
import { expect, type Page } from '@playwright/test';
import { type QuantscopePage } from './app';

/** Open the sample, calibrate, and select `tensor` in the explorer. */
export async function openTensor(app: QuantscopePage, tensor: string): Promise<void> {
  const page = app.page;
  await app.open();
  await app.useSample();
  await app.calibrate();
  await page.getByLabel('Filter tensors').fill(tensor);
  await page.getByTestId('tensor-list').getByRole('button').first().click();
  await expect(page.getByTestId('selected-tensor')).toHaveText(tensor);
}

/**
 * Press the upper range handle and move it left in 30 steps of a sixtieth of the chart's width (12 px on
 * a 720 px chart: the same drag whatever the layout), reading the live SQNR every 10 steps. The mouse
 * stays down: the caller releases it. Returns the distinct SQNR readings seen.
 */
export async function dragUpperHandleLeft(page: Page): Promise<Set<string>> {
  const handle = page.getByTestId('handle-max');
  await handle.scrollIntoViewIfNeeded();
  const box = (await handle.boundingBox())!;
  const step = (await page.getByTestId('histogram').boundingBox())!.width / 60;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  const seen = new Set<string>();
  for (let k = 1; k <= 30; k++) {
    await page.mouse.move(box.x + box.width / 2 - k * step, box.y + box.height / 2);
    if (k % 10 === 0) seen.add((await page.getByTestId('live-sqnr').textContent())!);
  }
  await expect(page.getByTestId('tensor-range')).toContainText('dragging range');
  return seen;
}
