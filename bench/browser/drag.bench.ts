/**
 * Main-thread tasks over 50 ms (the Long Tasks API's threshold) while dragging a range in the explorer,
 * on the sample in Debian's Chromium. A timing figure, so it lives here and not in e2e: printed as one
 * JSON line {name, value, unit, target} that bench/run.ts passes on.
 */
import { test } from '@playwright/test';
import { QuantscopePage } from '../../e2e/app';
import { dragUpperHandleLeft, openTensor } from '../../e2e/drag';
import { watchLongTasks } from '../../e2e/longTasks';

test('long tasks while dragging a range', async ({ page }) => {
  const app = new QuantscopePage(page);
  await openTensor(app, 'hardswish_58.tmp_0');
  const readLongTasks = await watchLongTasks(page);
  await dragUpperHandleLeft(page);
  await page.mouse.up();
  // Long-task entries are delivered after the task ends: a frame and a task later, all have been queued.
  const tasks = await readLongTasks();
  const line = {
    name: 'explorer_drag_long_tasks',
    value: tasks.length,
    unit: 'count',
    target: 0,
    longest_ms: Math.round(Math.max(0, ...tasks)),
  };
  console.log(`BENCH ${JSON.stringify(line)}`);
});
