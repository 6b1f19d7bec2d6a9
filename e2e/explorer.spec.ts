/**
 * The explorer: drag a tensor's range and watch its error change (responsiveness is in the bench), export
 * exactly the range released, sort tensors by what they cost, see why per-tensor weights hurt, choose
 * a method per op type, and get a message for a range that cannot be used.
 */
import { expect, test } from '@playwright/test';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { readFileSync } from 'node:fs';
import { QuantscopePage } from './app';
import { dragUpperHandleLeft, openTensor } from './drag';

test('drag a range, export it, sort by error, weights per channel, methods per op type', async ({ page }) => {
  const app = new QuantscopePage(page);
  const tensor = 'hardswish_58.tmp_0';
  await openTensor(app, tensor);
  await expect(page.getByTestId('method-table').locator('tbody tr')).toHaveCount(9);
  const before = Number(await page.getByTestId('live-sqnr').textContent());
  // ReLU-like output: symmetric wastes about half the codes, asymmetric none
  await expect(page.getByTestId('wasted-asymmetric')).toHaveText('0');
  expect(Number(await page.getByTestId('wasted-symmetric').textContent())).toBeGreaterThan(100);

  // Drag the upper end of the range to the left. Main-thread long tasks during the drag are a timing
  // figure: bench/browser/drag.bench.ts measures them (npm run bench), not this test.
  const seen = await dragUpperHandleLeft(page);
  expect(seen.size).toBeGreaterThanOrEqual(2); // the error changed as the range moved
  await page.mouse.up();
  await expect(page.getByTestId('tensor-range')).toContainText('manual range');
  const rmax = Number(await page.getByTestId('range-max').textContent());
  expect(rmax).toBeLessThan(84);
  expect(rmax).toBeGreaterThan(20);
  expect(Number(await page.getByTestId('live-sqnr').textContent())).not.toBe(before);
  const scale = (await page.getByTestId('tensor-scale').textContent())!;
  const zeroPoint = Number(await page.getByTestId('tensor-zero-point').textContent());
  await app.screenshot('30-dragged-range');

  // The export holds exactly the range released.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  const m = fromBinary(ModelProtoSchema, new Uint8Array(readFileSync((await download.path())!)));
  const inits = new Map(m.graph!.initializer.map((t) => [t.name, t]));
  const s = inits.get(`${tensor}_scale`)!.rawData;
  expect(new DataView(s.buffer, s.byteOffset, 4).getFloat32(0, true).toPrecision(9)).toBe(scale);
  const zp = inits.get(`${tensor}_zero_point`)!.rawData;
  expect(new Int8Array(zp.buffer, zp.byteOffset, 1)[0]).toBe(zeroPoint);

  // A range that cannot be used gets a message, and cannot be set.
  await page.getByLabel('Manual range min').fill('5');
  await page.getByLabel('Manual range max').fill('1');
  await expect(page.getByTestId('manual-range-message')).toContainText('inverted');
  await expect(page.getByRole('button', { name: 'Set range' })).toBeDisabled();
  await page.getByLabel('Manual range min').fill('0.5');
  await page.getByLabel('Manual range max').fill('3');
  await expect(page.getByTestId('manual-range-message')).toContainText('excludes 0');
  await page.getByRole('button', { name: 'Set range' }).click();
  await expect(page.getByTestId('range-max')).toHaveText('3');
  await page.getByRole('button', { name: 'clear manual range' }).click();
  await expect(page.getByTestId('tensor-range')).toContainText('min-max range');

  // Zoomed in on the range's end, the integer grid is drawn.
  await page.getByRole('button', { name: "Zoom on the range's upper end" }).click();
  await expect(page.getByTestId('grid-note')).toContainText('one line per code');
  expect(Number(await page.getByTestId('histogram').getAttribute('data-grid-codes'))).toBeGreaterThan(3);

  // Sorted by error, the worst tensor comes first.
  await page.getByLabel('Filter tensors').fill('');
  await page.getByLabel('Sort tensors').selectOption('error');
  const figures = page.getByTestId('tensor-list').getByTestId('row-figure');
  await expect
    .poll(async () => (await figures.allTextContents()).filter((t) => t.endsWith('dB')).length)
    .toBeGreaterThan(5);
  const db = (await figures.allTextContents()).slice(0, 5).map((t) => parseFloat(t));
  expect([...db].sort((a, b) => a - b)).toEqual(db);

  // The model-level method switch: the ranges worker answers every tensor's figure; the list keeps its
  // figures meanwhile and re-sorts when the new ones arrive (entropy clips outliers: better SQNR).
  const topFigures = async () => (await figures.allTextContents()).slice(0, 5).join('|');
  const minmaxTop = await topFigures();
  await page.getByLabel('Range method', { exact: true }).selectOption('entropy');
  expect((await figures.allTextContents()).filter((t) => t.endsWith('dB')).length).toBeGreaterThan(5);
  await expect.poll(topFigures).not.toBe(minmaxTop);
  const entropyDb = (await figures.allTextContents()).slice(0, 5).map((t) => parseFloat(t));
  expect([...entropyDb].sort((a, b) => a - b)).toEqual(entropyDb);
  await page.getByLabel('Range method', { exact: true }).selectOption('minmax');
  await expect.poll(topFigures).toBe(minmaxTop);

  // A method per op type: every output of that op type takes it, other tensors keep the model default.
  // (p2o.Add.3 is a Conv's output once the Add was folded into the Conv; the hardswish is a Div's.)
  await page.getByLabel('Filter tensors').fill('p2o.Add.3');
  await page.getByTestId('tensor-list').getByRole('button').first().click();
  await expect(page.getByTestId('tensor-detail-producer')).toContainText('output of Conv');
  await page.getByLabel('Conv range method').selectOption('percentile');
  await expect(page.getByTestId('tensor-range')).toContainText('percentile |x| (onnxruntime) range');
  await page.getByLabel('Filter tensors').fill(tensor);
  await page.getByTestId('tensor-list').getByRole('button').first().click();
  await expect(page.getByTestId('tensor-detail-producer')).toContainText('output of Div');
  await expect(page.getByTestId('tensor-range')).toContainText('min-max range');

  // Weights: the most hurt layer, per channel far better than per tensor.
  await page.getByRole('tab', { name: /Weights/ }).click();
  await expect(page.getByTestId('channel-chart')).toBeVisible();
  const perTensor = Number(await page.getByTestId('sqnr-per-tensor').textContent());
  const perChannel = Number(await page.getByTestId('sqnr-per-channel').textContent());
  expect(perChannel - perTensor).toBeGreaterThan(10);
  await app.screenshot('31-weights');

  // "Why?" opens the lab's granularity lesson on this weight, in the same page (the model stays).
  const weight = (await page.getByTestId('selected-weight').textContent())!;
  await page.getByRole('link', { name: /granularity, on this weight/ }).click();
  await expect(page.getByTestId('lesson-granularity')).toContainText(weight);
  await page.goBack();
  await page.getByRole('tab', { name: /Activations/ }).click();
  await page.getByLabel('Filter tensors').fill(tensor);
  await page.getByTestId('tensor-list').getByRole('button').first().click();
  await page.getByTestId('why-range').click();
  await expect(page.getByTestId('lesson-tensor')).toHaveText(tensor);
  // the lesson's min-max threshold is this tensor's max|x|
  expect(parseFloat((await page.getByTestId('fig-method-minmax').textContent())!.split(',')[0]!)).toBeCloseTo(
    84.458,
    2,
  );
});
