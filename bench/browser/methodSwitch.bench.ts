/**
 * The model-level method switch (min-max to onnxruntime's entropy) on the sample in Debian's Chromium:
 * main-thread tasks over 50 ms while every tensor's figure is recomputed (by the ranges worker: target 0),
 * and how long until the list shows the new figures. Printed as JSON lines that bench/run.ts passes on.
 */
import { expect, test } from '@playwright/test';
import { QuantscopePage } from '../../e2e/app';
import { openTensor } from '../../e2e/drag';
import { watchLongTasks } from '../../e2e/longTasks';

test('long tasks while switching the model-level method', async ({ page }) => {
  const app = new QuantscopePage(page);
  await openTensor(app, 'hardswish_58.tmp_0');
  await page.getByLabel('Filter tensors').fill('');
  await page.getByLabel('Sort tensors').selectOption('error');
  const figures = page.getByTestId('tensor-list').getByTestId('row-figure');
  const top = async () => (await figures.allTextContents()).slice(0, 5).join('|');
  await expect
    .poll(async () => (await figures.allTextContents()).filter((t) => t.endsWith('dB')).length)
    .toBeGreaterThan(5);
  const before = await top();
  const readLongTasks = await watchLongTasks(page);
  const t0 = Date.now();
  await page.getByLabel('Range method', { exact: true }).selectOption('entropy');
  await expect.poll(top, { intervals: [20] }).not.toBe(before);
  const ms = Date.now() - t0;
  const tasks = await readLongTasks();
  for (const line of [
    {
      name: 'method_switch_long_tasks',
      value: tasks.length,
      unit: 'count',
      target: 0,
      longest_ms: Math.round(Math.max(0, ...tasks)),
    },
    { name: 'method_switch_figures_ms', value: ms, unit: 'ms', note: 'until the sorted list shows the new figures' },
  ])
    console.log(`BENCH ${JSON.stringify(line)}`);
});
