/**
 * The page and the command line build the same bytes: export a model and its recipe from the page,
 * run `quantscope quantize` on the same model with that recipe, compare sha256. Then load the recipe
 * into a fresh page: every choice comes back, and the export (from the recipe's ranges, without
 * calibrating) is the same file again.
 */
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuantscopePage } from './app';

const ROOT = join(import.meta.dirname, '..');
const MODEL = join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_det_infer.onnx');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

test('page export + recipe → quantscope quantize gives the same sha256; the recipe restores the page', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const app = new QuantscopePage(page);
  await app.open();
  await app.useSample();
  // a choice that is not the default, to see it come back
  await page.getByLabel('Range method', { exact: true }).selectOption('percentile');
  await app.calibrate();
  const [exported] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  const exportedPath = (await exported.path())!;
  const [recipe] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download recipe' }).click(),
  ]);
  expect(recipe.suggestedFilename()).toBe('ch_PP-OCRv4_det_infer.int8.recipe.json');
  const recipePath = (await recipe.path())!;
  const r = JSON.parse(readFileSync(recipePath, 'utf8')) as {
    model: { sha256: string };
    config: { activations: { method: string } };
    calibration: { data: { kind: string; count: number } };
  };
  expect(r.model.sha256).toBe(sha(MODEL));
  expect(r.config.activations.method).toBe('percentile');
  expect(r.calibration.data.kind).toBe('images');
  expect(r.calibration.data.count).toBeGreaterThan(0);

  const out = join(mkdtempSync(join(tmpdir(), 'quantscope-e2e-')), 'cli.onnx');
  execFileSync(
    process.execPath,
    [join(ROOT, 'bin', 'quantscope.mjs'), 'quantize', MODEL, '--recipe', recipePath, '-o', out],
    { cwd: ROOT, timeout: 120_000 },
  );
  expect(sha(out)).toBe(sha(exportedPath));

  // a fresh page: load the model and the recipe; the choice is back, and the export is the same file
  await app.open();
  await app.useSample();
  await page.getByLabel('Load recipe').setInputFiles(recipePath);
  await expect(page.getByTestId('recipe-loaded')).toContainText('every choice restored');
  await expect(page.getByLabel('Range method', { exact: true })).toHaveValue('percentile');
  const [again] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  expect(sha((await again.path())!)).toBe(sha(exportedPath));
  await app.screenshot('60-recipe');
});
