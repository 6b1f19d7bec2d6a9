/**
 * The layout holds it all: after calibrating the detection sample, the tensor list, the tensor under
 * study and the actions (Calibrate, Tune where the tuner is, Export) are on screen together, without
 * scrolling, at 1440x900 and at 1280x720; the stepper says where the user is; the arrow keys move
 * through the tensors. The histogram's range labels stay apart and inside it; the Choices table scrolls
 * sideways in its own box, never the page; a select stays inside its column. After Tune the same holds, with the Tune panel's result in the side panel.
 * Screenshots of both sizes, after calibration and after Tune, are kept (test-results/screens).
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { QuantscopePage } from './app';

/** Entirely inside the window, as laid out (no scrolling of the page or of a pane needed). */
async function onScreen(page: Page, l: Locator): Promise<void> {
  const box = await l.boundingBox();
  const vp = page.viewportSize()!;
  expect(box, 'laid out').not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.y).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(vp.width + 0.5);
  expect(box!.y + box!.height).toBeLessThanOrEqual(vp.height + 0.5);
}

/**
 * Nothing in the side panel is wider than its card: the Choices table scrolls sideways in its own box,
 * which says so (a shadow on the side with more columns, a line above it) and stops saying so at its
 * end; the page itself never scrolls horizontally.
 */
async function choicesFit(page: Page, width: number): Promise<void> {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
  const card = page.getByTestId('choices-panel');
  await card.scrollIntoViewIfNeeded();
  const overflow = await card.evaluate((c) => c.scrollWidth - c.clientWidth);
  expect(overflow, 'the Choices card overflows its width').toBeLessThanOrEqual(1);
  const box = card.getByRole('region', { name: 'Choices by op type' });
  const table = await box.evaluate((b) => ({ scroll: b.scrollWidth, client: b.clientWidth }));
  const outer = box.locator('..');
  if (table.scroll > table.client + 1) {
    await expect(outer).toHaveAttribute('data-more-right', 'true');
    await expect(card.getByTestId('scroll-hint')).toBeVisible();
    await box.evaluate((b) => b.scrollTo({ left: b.scrollWidth }));
    await expect(outer).toHaveAttribute('data-more-right', 'false');
    await expect(outer).toHaveAttribute('data-more-left', 'true');
    await box.evaluate((b) => b.scrollTo({ left: 0 }));
    await expect(outer).toHaveAttribute('data-more-left', 'false');
  }
}

/** The histogram's range labels (the range in use's ends, the other methods' names) meet neither each other nor its edges. */
async function labelsApart(page: Page): Promise<void> {
  const { chart, labels } = await page.getByTestId('histogram').evaluate((h) => {
    const rect = (e: Element) => {
      const r = e.getBoundingClientRect();
      return { text: e.textContent ?? '', left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    };
    return {
      chart: rect(h.querySelector('svg')!),
      // the range in use's labels (the overlay) and the other methods' (placed there, or on their reference lines)
      labels: [...h.querySelectorAll('svg.overlay text, .recharts-reference-line text')]
        .map(rect)
        .filter((r) => r.right > r.left),
    };
  });
  expect(labels.length, 'range labels drawn').toBeGreaterThan(1);
  for (const [i, a] of labels.entries()) {
    expect(a.left, `"${a.text}" inside the chart`).toBeGreaterThanOrEqual(chart.left);
    expect(a.right, `"${a.text}" inside the chart`).toBeLessThanOrEqual(chart.right);
    for (const b of labels.slice(i + 1)) {
      const meet = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      expect(meet, `"${a.text}" and "${b.text}" overlap`).toBe(false);
    }
  }
}

test('tensor list, tensor detail and the actions on one screen at 1440x900 and 1280x720; arrow keys move', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await app.open();
  await app.useSample();
  await expect(page.getByRole('navigation', { name: 'Steps' })).toContainText('calibrate');
  await expect(page.getByRole('link', { name: 'Step 3: calibrate' })).toHaveAttribute(
    'aria-label',
    'Step 3: calibrate',
  );
  await app.calibrate();
  await expect(page.getByRole('link', { name: 'Step 3: calibrate (done)' })).toBeVisible();
  mkdirSync('test-results/screens', { recursive: true });
  for (const [width, height] of [
    [1440, 900],
    [1280, 720],
  ] as const) {
    await page.setViewportSize({ width, height });
    const list = page.getByTestId('tensor-list');
    await expect(list.getByRole('button').first()).toBeVisible();
    // the page itself does not scroll: the panes do
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(height + 1);
    await onScreen(page, list.getByRole('button').first());
    await onScreen(page, page.getByTestId('selected-tensor'));
    await onScreen(page, page.getByTestId('histogram'));
    await onScreen(page, app.calibrateButton());
    await onScreen(page, page.getByRole('button', { name: 'Export', exact: true }));
    const tune = page.getByRole('button', { name: 'Tune', exact: true });
    if (await tune.count()) await onScreen(page, tune);
    await page.screenshot({ path: `test-results/screens/layout-det-calibrated-${width}x${height}.png` });
    // the graph input's ranges end close together near the histogram's right edge, with 8 methods' labels
    await labelsApart(page);
    await choicesFit(page, width);
    await page.screenshot({ path: `test-results/screens/layout-det-choices-${width}x${height}.png` });
  }
  // at 1280x720 the Sensitivity tab's column is narrower than the rank select's longest option: the
  // select keeps inside its column instead of running over the tensor beside it
  await page.getByRole('tab', { name: 'Sensitivity' }).click();
  const rank = page.getByLabel('Groups to rank');
  const [selectRight, columnRight] = await rank.evaluate((e) => [
    e.getBoundingClientRect().right,
    e.closest('.debug-run-row')!.parentElement!.getBoundingClientRect().right,
  ]);
  expect(selectRight, 'the rank select runs past its column').toBeLessThanOrEqual(columnRight! + 0.5);
  await page.getByRole('tab', { name: 'Tensors' }).click();
  // after Tune: percentile ranges give the det map 12.1 dB on the held-out pages, min-max 13.5 dB and
  // entropy 14.4 dB (measured from the command line): from percentile, a 13 dB target is met by a
  // model-wide move, in a few configurations
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.getByLabel('Range method', { exact: true }).selectOption('percentile');
  await page.getByLabel('Target metric').selectOption('sqnr');
  await page.getByLabel('Target value').fill('13');
  await page.getByRole('button', { name: 'Tune', exact: true }).click();
  const tuneStatus = page.getByTestId('tune-status');
  await expect(tuneStatus).toHaveAttribute('data-status', /^(done|error)$/, { timeout: 300_000 });
  await expect(page.getByTestId('tune-error')).toHaveCount(0);
  await expect(page.getByTestId('tune-result')).toHaveAttribute('data-met', 'true');
  for (const [width, height] of [
    [1440, 900],
    [1280, 720],
  ] as const) {
    await page.setViewportSize({ width, height });
    const list = page.getByTestId('tensor-list');
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(height + 1);
    await onScreen(page, list.getByRole('button').first());
    await onScreen(page, page.getByTestId('selected-tensor'));
    await onScreen(page, page.getByTestId('histogram'));
    await onScreen(page, app.calibrateButton());
    await onScreen(page, page.getByRole('button', { name: 'Tune', exact: true }));
    await onScreen(page, page.getByRole('button', { name: 'Export', exact: true }));
    await page.getByTestId('pareto-plot').scrollIntoViewIfNeeded();
    await onScreen(page, page.getByTestId('pareto-plot'));
    await page.screenshot({ path: `test-results/screens/layout-det-tuned-${width}x${height}.png` });
  }
  // arrow keys: down moves to the next tensor in the list, up back
  const rows = page.getByTestId('tensor-list').getByRole('button');
  const first = (await rows.nth(0).getAttribute('data-tensor'))!;
  const second = (await rows.nth(1).getAttribute('data-tensor'))!;
  await rows.nth(0).click();
  await expect(page.getByTestId('selected-tensor')).toHaveText(first);
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('selected-tensor')).toHaveText(second);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowUp');
  await expect(page.getByTestId('selected-tensor')).toHaveText(second);
  await page.keyboard.press('End');
  await expect(page.getByTestId('selected-tensor')).not.toHaveText(second);
  await onScreen(page, page.getByTestId('tensor-list').locator('button.selected'));
});
