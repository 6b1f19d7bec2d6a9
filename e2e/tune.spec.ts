/**
 * Tune in the page, waiting for events, never sleeping:
 *  - the guard rail's loop with the default target: an export that misses it (a middle tensor needing
 *    more than 8 bits) offers Tune; Tune (default: output SQNR >= 30 dB, the output having no class
 *    axis) finds a setting that meets it; Export writes it, the guard passes, and the download meets the
 *    target in onnxruntime-node against the float model;
 *  - the recognition sample with a top-1 target set in the panel: progress while it runs, Export and
 *    Calibrate off meanwhile; afterwards what changed and the Pareto plot (each point a button that picks
 *    its configuration); Export writes the choice, and the download meets the target in onnxruntime-node
 *    against the float model on the held-out lines (17-24, never calibrated on). The five action names
 *    each belong to one control only. Before that, a Tune cancelled as it prepares ends its worker at
 *    once (the next Tune is not queued behind the cancelled one's session creation).
 * The rec sample with the default target (top-1 >= 0.99) is not run here: the engine keeps many groups
 * float to reach it, 116 configurations (793 s on this loaded 2-core machine from the command line), far
 * past an e2e's share; see README, Tune in the page.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { mulberry32 } from '../src/core/random';
import { encodeModel } from '../src/onnx/codec';
import { outlierModel } from '../test/helpers/guardModels';
import { QuantscopePage } from './app';
import { exportAndRead, REC_FLOAT_MODEL, REC_HELD_OUT, recOutputs, top1Agreement, tuneAndWait } from './tuneFlow';

const ROLES = ['button', 'link', 'combobox', 'textbox', 'checkbox', 'radio', 'menuitem', 'tab', 'spinbutton'] as const;

/** Controls of any role whose accessible name starts with `name` (case-insensitive). */
async function controlsNamed(page: Page, name: string): Promise<number> {
  let n = 0;
  const re = new RegExp(`^\\s*${name}`, 'i');
  for (const role of ROLES) n += await page.getByRole(role, { name: re }).count();
  return n;
}

test('the guard offers Tune; Tune meets the default target; the export passes the guard and meets it in onnxruntime-node', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  await app.open();
  const float = encodeModel(outlierModel(1000));
  await app.loadModelFile('outlier-x1000.onnx', Buffer.from(float));
  await expect(page.getByTestId('model-summary')).toContainText('outlier-x1000.onnx');
  const use = page.getByRole('button', { name: 'Use generated data' });
  if (!(await use.isVisible())) await page.getByRole('button', { name: 'Generate data…' }).click(); // a toggle
  await use.click();
  await app.calibrate();
  await exportAndRead(page);
  const alert = page.getByTestId('export-result').getByRole('alert');
  await expect(alert).toContainText('misses the target');
  await alert.getByRole('link', { name: 'Let Tune find a setting that meets it' }).click();
  await expect(page.getByRole('button', { name: 'Tune', exact: true })).toBeFocused();

  await tuneAndWait(app);
  const result = page.getByTestId('tune-result');
  await expect(result).toHaveAttribute('data-met', 'true');
  await expect(result).toContainText('Meets output SQNR >= 30 dB');
  await expect(result).toContainText('on output out');
  await expect(page.getByTestId('tune-changes').getByRole('listitem').first()).toBeVisible();
  await expect(page.getByTestId('pareto-plot')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Step 4: tune (done)' })).toBeVisible();

  const bytes = await exportAndRead(page);
  await expect(page.getByTestId('guard-pass')).toBeVisible();
  await expect(page.getByTestId('export-result').getByRole('alert')).toHaveCount(0);
  // the download against the float model on fresh inputs: output SQNR over 30 dB
  const rand = mulberry32(7);
  const run = async (model: Uint8Array, x: Float32Array) => {
    const s = await ort.InferenceSession.create(model);
    try {
      return (await s.run({ x: new ort.Tensor('float32', x, [1, 16]) })).out!.data as Float32Array;
    } finally {
      await s.release();
    }
  };
  let signal = 0;
  let noise = 0;
  for (let k = 0; k < 16; k++) {
    const x = Float32Array.from({ length: 16 }, () => rand() * 2 - 1);
    const a = await run(float, x);
    const b = await run(bytes, x);
    for (let i = 0; i < a.length; i++) {
      signal += a[i]! ** 2;
      noise += (a[i]! - b[i]!) ** 2;
    }
  }
  const sqnr = 10 * Math.log10(signal / noise);
  console.log(`tuned outlier model: output SQNR ${sqnr.toFixed(1)} dB in onnxruntime-node`);
  expect(sqnr).toBeGreaterThanOrEqual(30);
});

test('rec sample: Tune from entropy ranges to a top-1 target, pick on the Pareto plot, export; the download meets the target', async ({
  page,
}) => {
  test.setTimeout(420_000); // calibrating and tuning the real rec model twice on 2 loaded cores
  const app = new QuantscopePage(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await app.open();
  await page.getByRole('button', { name: /Use the sample: PP-OCRv4 text recognition/ }).click();
  await expect(page.getByTestId('model-summary')).toContainText('ch_PP-OCRv4_rec_infer.onnx', { timeout: 60_000 });
  const tune = page.getByRole('button', { name: 'Tune', exact: true });
  await expect(tune).toBeDisabled(); // nothing to search before calibration
  await app.calibrate();
  await expect(tune).toBeEnabled();
  for (const name of ['Load model', 'Calibration data', 'Calibrate', 'Tune', 'Export'])
    expect(await controlsNamed(page, name), `controls named "${name}…"`).toBeLessThanOrEqual(1);
  for (const name of ['Calibrate', 'Tune', 'Export'])
    await expect(page.getByRole('button', { name, exact: false })).toHaveCount(1);
  await expect(page.getByLabel('Load model')).toHaveCount(1);
  await expect(page.getByLabel('Calibration data')).toHaveCount(1);

  // a Tune cancelled while it prepares (the default target on rec: minutes of switchboard session and
  // search) ends its worker at once, and the next Tune runs in a fresh one (below), not behind it
  const [tuneWorker] = await Promise.all([
    page.waitForEvent('worker', (w) => /tune\.worker/.test(w.url())),
    tune.click(),
  ]);
  const closed = tuneWorker.waitForEvent('close');
  await page.getByRole('button', { name: 'Cancel tuning' }).click();
  await closed;
  await expect(page.getByTestId('tune-status')).toHaveAttribute('data-status', 'cancelled');
  await expect(tune).toBeEnabled();

  // start from entropy ranges everywhere, which rec's held-out lines disagree with on about half their
  // positions (0.46, measured from the command line), against 0.95 with min-max ranges and 0.96 with MSE
  // ranges: a 0.9 target is missed at the start and met by a model-wide move, in a few configurations
  await page.getByLabel('Range method', { exact: true }).selectOption('entropy');
  await page.getByLabel('Target metric').selectOption('top1');
  await page.getByLabel('Target value').fill('0.9');
  await tuneAndWait(app);
  const result = page.getByTestId('tune-result');
  await expect(result).toHaveAttribute('data-met', 'true');
  await expect(result).toContainText('Meets top-1 agreement >= 0.9');
  await expect(page.getByTestId('tune-changes')).toContainText('everywhere');
  await expect(page.getByRole('link', { name: 'Step 4: tune (done)' })).toBeVisible();

  // the Pareto plot: a point per configuration, the one in use pressed; picking the first (where the
  // search started) puts its choices in use, picking the ringed one (the search's choice) brings it back
  const points = page.getByTestId('pareto-point');
  expect(await points.count()).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId('pareto-plot').locator('.recharts-reference-line')).toHaveCount(1);
  const chosen = page.getByRole('button', { name: /chosen by the search/ });
  await expect(chosen).toHaveAttribute('aria-pressed', 'true');
  await page.getByRole('button', { name: /^Trial 0:/ }).click();
  await expect(page.getByTestId('tune-picked')).toContainText('In use: #0');
  await expect(page.getByRole('button', { name: /^Trial 0:/ })).toHaveAttribute('aria-pressed', 'true');
  await chosen.focus();
  await page.keyboard.press('Enter');
  await expect(chosen).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('tune-picked')).toContainText('the search\u2019s choice');
  // the written file's own numbers, and the latency view: only the files Tune built and ran have a latency
  await expect(page.getByTestId('tune-file')).toContainText('Measured on the written file in onnxruntime');
  const all = await points.count();
  await page.getByLabel('Pareto plot x-axis').selectOption('latency');
  await expect(page.getByTestId('pareto-plot')).toHaveAttribute('data-axis', 'latency');
  await expect(page.getByTestId('pareto-plot')).toContainText('WASM latency on this machine');
  const timed = await points.count();
  console.log(`tuned rec: ${timed} of ${all} configurations with a latency`);
  expect(timed).toBeGreaterThanOrEqual(2); // the start and the choice
  expect(timed).toBeLessThanOrEqual(all);
  await expect(chosen).toHaveAccessibleName(/ ms WASM latency on this machine/);
  await page.getByLabel('Pareto plot x-axis').selectOption('size');
  await app.screenshot('tune-rec-result');

  const bytes = await exportAndRead(page);
  const float = await recOutputs(new Uint8Array(readFileSync(REC_FLOAT_MODEL)));
  const tuned = await recOutputs(bytes);
  expect(float.classes).toBeGreaterThan(1000);
  const agreement = top1Agreement(float.outs, tuned.outs, float.classes);
  console.log(`tuned rec: top-1 agreement ${agreement.toFixed(4)} on ${REC_HELD_OUT.length} held-out lines`);
  expect(agreement).toBeGreaterThanOrEqual(0.9);

  // the task metric as a target: the lines' own text read by the tuned configuration (now the start)
  // against the float model's, within 50 points of character accuracy
  await page.getByLabel('Target metric').selectOption('task-drop');
  await page.getByLabel('Target value').fill('50');
  await tuneAndWait(app);
  await expect(result).toHaveAttribute('data-met', 'true');
  await expect(result).toContainText("Meets at most 50 points below the float model's task metric");
  await expect(page.getByTestId('tune-after')).toHaveText(/^[+-]\d+\.\d pt$/);
});
