/**
 * Choices re-derive scales from the kept statistics, and the export uses exactly what the page shows:
 * the downloaded file's scale and zero-point initializers are read back and checked against the page.
 */
import { expect, test } from '@playwright/test';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { readFileSync } from 'node:fs';
import { QuantscopePage } from './app';
import { watchLongTasks } from './longTasks';

function initializers(bytes: Buffer) {
  const m = fromBinary(ModelProtoSchema, new Uint8Array(bytes));
  return new Map(m.graph!.initializer.map((t) => [t.name, t]));
}

function scalarFloat(raw: Uint8Array): number {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getFloat32(0, true);
}

test('switching to uint8 activations and per-tensor weights changes the exported scales as the page says', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  await app.open();
  await app.useSample();
  const readLongTasks = await watchLongTasks(page);
  await app.calibrate();
  const tasks = await readLongTasks();
  const report = `${tasks.length} main-thread tasks over 50 ms during calibration (longest ${Math.round(Math.max(0, ...tasks))} ms)`;
  test.info().annotations.push({ type: 'long tasks', description: report });
  console.log(report);
  // the fold path the page picks by default: a fold worker only where a core is left beside
  // onnxruntime's threads (runtime/foldWorker.ts, foldWorkerUseless)
  const threads = Number(await page.getByTestId('thread-count').textContent());
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  await expect(page.getByTestId('statistics-fold')).toContainText(
    threads >= cores
      ? `statistics folded one sample at a time: onnxruntime's ${threads} threads take all ${cores} cores here`
      : 'statistics folded in a second worker, overlapping',
  );

  // Defaults first: int8 asymmetric input.
  const list = page.getByTestId('tensor-list');
  await list.getByRole('button').first().click();
  await expect(page.getByTestId('selected-tensor')).toHaveText('x');
  const int8Zp = Number(await page.getByTestId('tensor-zero-point').textContent());

  await page.getByLabel('Activation dtype').selectOption('uint8');
  await page.getByLabel('Model weight granularity').selectOption('tensor');
  const scaleText = (await page.getByTestId('tensor-scale').textContent())!;
  const zp = Number(await page.getByTestId('tensor-zero-point').textContent());
  expect(zp).toBe(int8Zp + 128); // the same grid, shifted into uint8
  await expect(page.getByTestId('export-panel')).toContainText('activations uint8 asymmetric');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  const inits = initializers(readFileSync((await download.path())!));
  const xScale = inits.get('x_scale')!;
  const xZp = inits.get('x_zero_point')!;
  expect(xZp.dataType).toBe(2); // UINT8
  expect(xZp.rawData[0]).toBe(zp);
  expect(scalarFloat(xScale.rawData).toPrecision(9)).toBe(scaleText);
  // per-tensor weights: every Conv weight has one scale
  const weightScales = [...inits.values()].filter((t) => t.name.endsWith('_scale') && t.name.includes('.w_'));
  expect(weightScales.length).toBeGreaterThan(20);
  for (const t of weightScales) expect(t.dims.length).toBe(0);

  // A calibration method: every method's range and cost is shown; the chosen one is exported.
  await expect(page.getByTestId('method-table').locator('tbody tr')).toHaveCount(9);
  await page.getByLabel('Range method', { exact: true }).selectOption('percentile');
  await page.getByLabel('Percentile', { exact: true }).fill('99.9');
  await expect(page.getByTestId('tensor-range')).toContainText('percentile |x| (onnxruntime) range');
  const pScale = (await page.getByTestId('tensor-scale').textContent())!;
  expect(pScale).not.toBe(scaleText);
  const [pct] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  expect(scalarFloat(initializers(readFileSync((await pct.path())!)).get('x_scale')!.rawData).toPrecision(9)).toBe(
    pScale,
  );
  await app.screenshot('21-methods');
  await page.getByLabel('Range method', { exact: true }).selectOption('minmax');

  // A per-tensor override wins over the model default.
  await page.getByLabel('Tensor dtype').selectOption('int8');
  await expect(page.getByTestId('tensor-zero-point')).toHaveText(String(int8Zp));
  const [again] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  const inits2 = initializers(readFileSync((await again.path())!));
  expect(inits2.get('x_zero_point')!.dataType).toBe(3); // INT8
  expect(
    new Int8Array(inits2.get('x_zero_point')!.rawData.buffer, inits2.get('x_zero_point')!.rawData.byteOffset, 1)[0],
  ).toBe(int8Zp);
  await app.screenshot('20-choices');
});
