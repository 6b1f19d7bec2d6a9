/**
 * The debugger and sensitivity in the page (issue 12 §1, §2), on the recognition sample: calibrate,
 * run the debugger in the worker; the per-tensor list and the graph (coloured by accumulated SQNR)
 * show, the first divergence is marked in both, and clicking a node puts its tensor under study.
 * Then sensitivity ranks the groups. Screenshots at 1440x900 in test-results/screens.
 */
import { expect, test } from '@playwright/test';
import { QuantscopePage } from './app';

test('debugger: list, graph with the first divergence, click-through; sensitivity ranking', async ({ page }) => {
  const app = new QuantscopePage(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await app.open();
  await page.getByRole('button', { name: /Use the sample: PP-OCRv4 text recognition/ }).click();
  await expect(page.getByTestId('model-summary')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('data-label')).toContainText('text lines');
  await app.calibrate();

  // the graph view, before and after the debugger
  await page.getByRole('tab', { name: 'Graph' }).click();
  const nodes = page.getByTestId('graph-node');
  await expect(nodes.first()).toBeVisible();
  expect(await nodes.count()).toBeGreaterThan(300);
  // two held-out lines keep the e2e short (the page's default is 4)
  await page.getByLabel('Held-out samples').selectOption('2');
  await page.getByRole('button', { name: 'Run the debugger' }).click();
  const run = page.getByTestId('debug-run');
  await expect(run).toHaveAttribute('data-status', /^(done|error)$/, { timeout: 120_000 });
  await expect(page.getByTestId('debug-run-error')).toHaveCount(0);
  await expect(page.getByTestId('debug-run-time')).toContainText(/took \d+\.\d s/);
  await expect(run).toContainText('2 held-out text lines');

  // exactly one node is the first divergence; the button brings it into view and under study
  const first = page.locator('[data-testid="graph-node"][data-first-divergence="true"]');
  await expect(first).toHaveCount(1);
  const firstTensor = (await first.getAttribute('data-tensor'))!;
  await page.getByRole('button', { name: 'Go to first divergence' }).click();
  await expect(page.getByTestId('selected-tensor')).toHaveText(firstTensor);
  await expect(first).toBeInViewport();
  await expect(page.getByTestId('histogram')).toBeVisible();
  // nodes are coloured: at least two different fills among the quantized ones
  const fills = await page
    .locator('[data-testid="graph-node"] rect')
    .evaluateAll((rs) => new Set(rs.map((r) => r.getAttribute('fill'))).size);
  expect(fills).toBeGreaterThan(2);
  await app.screenshot('debug-graph-rec-1440x900');

  // zoom and pan move the drawing
  const zoom = page.getByTestId('graph-zoom');
  const before = await zoom.textContent();
  await page.getByRole('button', { name: 'Zoom out of the graph' }).click();
  await expect(zoom).not.toHaveText(before!);
  const box = (await page.getByTestId('graph-view').locator('svg').boundingBox())!;
  const g = page.getByTestId('graph-view').locator('svg > g');
  const t0 = await g.getAttribute('transform');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2 + 80, { steps: 5 });
  await page.mouse.up();
  expect(await g.getAttribute('transform')).not.toBe(t0);

  // clicking another node (a coloured one in view, near the first divergence) puts its tensor under study
  await page.getByRole('button', { name: 'Fit the graph' }).click();
  await page.getByRole('button', { name: 'Go to first divergence' }).click();
  const frame = (await page.locator('.graph-frame').boundingBox())!;
  const target = await page.locator('[data-testid="graph-node"]:not([data-first-divergence])').evaluateAll((gs, f) => {
    for (const g of gs) {
      const fill = g.querySelector('rect')!.getAttribute('fill');
      if (fill === '#e6e9f0' || fill === '#dfe7ff') continue; // not quantized, or an input
      const r = g.getBoundingClientRect();
      if (r.left > f.x && r.top > f.y && r.right < f.x + f.width && r.bottom < f.y + f.height)
        return { tensor: g.getAttribute('data-tensor')!, x: r.left + r.width / 2, y: r.top + r.height / 2 };
    }
    return null;
  }, frame);
  expect(target, 'a coloured node in view').not.toBeNull();
  await page.mouse.click(target!.x, target!.y);
  await expect(page.getByTestId('selected-tensor')).not.toHaveText(firstTensor);
  await expect(page.locator('[data-testid="graph-node"][data-selected="true"]')).toHaveAttribute(
    'data-tensor',
    target!.tensor,
  );

  // the list: graph order with bars, the first divergence marked
  await page.getByRole('tab', { name: 'Error by tensor' }).click();
  const list = page.getByTestId('debug-list');
  await expect(list.locator('tr[data-tensor]').first()).toBeVisible();
  await expect(list.locator('tr[data-first-divergence="true"]')).toHaveAttribute('data-tensor', firstTensor);
  await expect(page.getByTestId('first-divergence')).toContainText(firstTensor);
  await expect(list).toContainText('Weights: float against dequantized');
  await app.screenshot('debug-list-rec-1440x900');

  // sensitivity: progress, then a ranking, most sensitive first
  await page.getByRole('tab', { name: 'Sensitivity' }).click();
  // the quick sweep (the debugger's 12 worst groups) on one held-out line keeps the e2e short; the full
  // sweep is the same function over every group (bench: sensitivity_rec_*)
  await page.getByLabel('Groups to rank').selectOption('worst');
  await page.getByLabel('Held-out samples').selectOption('1');
  await page.getByRole('button', { name: 'Run sensitivity' }).click();
  const srun = page.getByTestId('sensitivity-run');
  await expect(page.getByRole('progressbar', { name: 'Run sensitivity: progress' })).toBeVisible();
  await expect(srun).toHaveAttribute('data-status', /^(done|error)$/, { timeout: 180_000 });
  await expect(page.getByTestId('sensitivity-run-error')).toHaveCount(0);
  const rows = page.getByTestId('sensitivity-row');
  const ranked = await rows.count();
  expect(ranked).toBeGreaterThan(3);
  expect(ranked).toBeLessThanOrEqual(12);
  await expect(page.getByTestId('sensitivity-ranking')).toContainText(`${ranked} of `);
  // the task metric the page knows for the text lines: character accuracy against their own text
  await expect(page.getByTestId('sensitivity-task')).toContainText(
    /character accuracy \d+\.\d% \(float model \d+\.\d%\)/,
  );
  const sqnr = await rows.evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-sqnr'))));
  expect(sqnr.every((x) => !Number.isNaN(x))).toBe(true);
  for (let i = 1; i < sqnr.length; i++) expect(sqnr[i]!).toBeGreaterThanOrEqual(sqnr[i - 1]!);
  await app.screenshot('debug-sensitivity-rec-1440x900');
  // every column on screen: the ranking's box scrolls down, never sideways, at 1440x900 and 1280x720
  const tableBox = page.getByTestId('sensitivity-ranking').locator('.debug-table-box');
  const overflow = () => tableBox.evaluate((b) => b.scrollWidth - b.clientWidth);
  expect(await overflow(), 'sensitivity table wider than its box at 1440x900').toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 1280, height: 720 });
  await expect.poll(overflow, { message: 'sensitivity table wider than its box at 1280x720' }).toBeLessThanOrEqual(0);
  await app.screenshot('debug-sensitivity-rec-1280x720');
});
