/**
 * The real-size models in the page (npm run test:large): the 346 MB ViT-B/16-sized model calibrated
 * and exported as static QDQ, its download run in onnxruntime-node against the float model; and the
 * 2.55 GB decoder with external data picked as its two files and exported as q4 with its data file,
 * with the renderer's peak resident memory (VmHWM, e2e/rendererMemory.ts) under a bound that a path
 * holding the model's weights (2.55 GB) exceeds. Both models are generated into a temporary folder.
 */
import { expect, test, type Download, type Page } from '@playwright/test';
import * as ort from 'onnxruntime-node';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqnr } from '../../src/core/metrics';
import { QuantscopePage } from '../../e2e/app';
import { rendererPeakBytes } from '../../e2e/rendererMemory';

const ROOT = join(import.meta.dirname, '..', '..');
const MIB = 1024 ** 2;

function generate(dir: string, ...kind: string[]): void {
  // the ONNX layer's JSON does not load in Playwright's loader: the model is written by a script
  execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/make-external-model.ts'), dir, ...kind], {
    cwd: ROOT,
  });
}

function collectDownloads(page: Page): Download[] {
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  return downloads;
}

test("the 2.55 GB decoder with external data exports as q4 in the page, the renderer's peak memory far below the model", async ({
  page,
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-large-page-dec-'));
  try {
    generate(dir, 'decoder', '12');
    const onnx = join(dir, 'decoder.onnx');
    const data = join(dir, 'decoder.onnx_data');
    const app = new QuantscopePage(page);
    await app.open();
    await page.getByLabel('Load model').setInputFiles([onnx, data]);
    await expect(page.getByTestId('model-summary')).toContainText('decoder.onnx', { timeout: 600_000 });
    await page.getByRole('button', { name: /^q4 \(MatMulNBits/ }).click();
    const downloads = collectDownloads(page);
    await page.getByRole('button', { name: 'Export' }).click();
    await expect(page.getByTestId('export-data-file')).toHaveText('model_q4.onnx_data', { timeout: 1_500_000 });
    await expect.poll(() => downloads.length, { timeout: 600_000 }).toBe(2);
    await Promise.all(downloads.map((d) => d.path()));
    const peak = rendererPeakBytes();
    console.log(`renderer peak ${Math.round(peak / MIB)} MiB (2.55 GB decoder q4)`);
    const header = readFileSync((await downloads[0]!.path())!);
    expect(header.includes('model_q4.onnx_data')).toBe(true);
    expect(header.includes('MatMulNBits')).toBe(true);
    // q4 of 2.55 GB of float32 weights: about an eighth, plus the float embedding
    const dataBytes = statSync((await downloads[1]!.path())!).size;
    expect(dataBytes).toBeGreaterThan(statSync(data).size / 10);
    expect(dataBytes).toBeLessThan(statSync(data).size / 4);
    // measured 799 and 930 MiB, 865 and 794 with the check in a worker of its own (637 MiB while the
    // worker writes the export, the rest the check's session made by onnxruntime-web's JSPI build,
    // which streams the data file tensor by tensor); 1176 MiB when the
    // check's runtime read the whole data file into a buffer first, and a path that held the model's
    // weights would pass 2.5 GiB (this test runs first: no earlier test's renderer is counted)
    expect(peak).toBeLessThan(1024 ** 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the 346 MB ViT calibrates and exports as static QDQ in the page; the download agrees with the float model', async ({
  page,
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-large-page-vit-'));
  try {
    generate(dir, 'vit');
    const path = join(dir, 'vit.onnx');
    const app = new QuantscopePage(page);
    await app.open();
    await page.getByLabel('Load model').setInputFiles(path);
    await expect(page.getByTestId('model-summary')).toContainText('vit.onnx', { timeout: 600_000 });
    await page.getByRole('button', { name: 'Generate data…' }).click();
    await page.getByLabel('Generated sample count').fill('4');
    await page.getByRole('button', { name: 'Use generated data' }).click();
    await expect(page.getByTestId('data-label')).toHaveText('4 generated samples');
    await app.calibrate(1_200_000);
    const downloads = collectDownloads(page);
    await page.getByRole('button', { name: 'Export' }).click();
    await expect(page.getByTestId('export-result')).toContainText('vit.int8.onnx', { timeout: 1_200_000 });
    await expect.poll(() => downloads.length, { timeout: 600_000 }).toBeGreaterThanOrEqual(1);
    const out = join(dir, 'vit.int8.onnx');
    copyFileSync((await downloads[0]!.path())!, out);
    console.log(`renderer peak ${Math.round(rendererPeakBytes() / MIB)} MiB (ViT static QDQ)`);
    expect(statSync(out).size / statSync(path).size).toBeLessThan(0.3);
    // one input the calibration never saw: a smooth image-like pattern in [-1, 1]
    const x = Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i / 97) * Math.cos(i / 1301));
    const run = async (p: string) => {
      const s = await ort.InferenceSession.create(p);
      const r = await s.run({ pixel_values: new ort.Tensor('float32', x, [1, 3, 224, 224]) });
      const y = r[s.outputNames[0]!]!.data as Float32Array;
      await s.release();
      return y;
    };
    const q = sqnr(await run(path), await run(out));
    console.log(`ViT static QDQ logits SQNR ${q.toFixed(1)} dB`);
    expect(q).toBeGreaterThan(20); // measured 30.5 dB
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
