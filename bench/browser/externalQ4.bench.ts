/**
 * The page's memory on a real-size model with external data: the decoder (BENCH_PAGE_LAYERS deep,
 * default 12: 2.55 GB of float weights in its data file, generated into a temporary folder) picked as
 * its two files and exported as q4 (MatMulNBits) with its data file, in Debian's Chromium. Reported:
 * the renderer's peak resident memory (VmHWM from /proc, the page with its workers and wasm heap, not
 * the JavaScript heap; e2e/rendererMemory.ts) before loading and after the export, the export's time
 * and MB/s of float weights, and the longest main-thread task. JSON lines for bench/run.ts.
 */
import { expect, test, type Download } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuantscopePage } from '../../e2e/app';
import { rendererPeakBytes } from '../../e2e/rendererMemory';
import { watchLongTasks } from '../../e2e/longTasks';

const ROOT = join(import.meta.dirname, '..', '..');
const MIB = 1024 ** 2;

test('renderer peak memory while the decoder with external data exports as q4', async ({ page }) => {
  test.setTimeout(1_800_000);
  const layers = Number(process.env.BENCH_PAGE_LAYERS ?? 12);
  const dir = mkdtempSync(join(tmpdir(), 'quantscope-bench-ext-'));
  try {
    execFileSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts/make-external-model.ts'), dir, 'decoder', String(layers)],
      { cwd: ROOT },
    );
    const onnx = join(dir, 'decoder.onnx');
    const data = join(dir, 'decoder.onnx_data');
    const gb = (statSync(data).size / 1e9).toFixed(2);
    const app = new QuantscopePage(page);
    await app.open();
    const readLongTasks = await watchLongTasks(page);
    const before = rendererPeakBytes();
    const t0 = Date.now();
    await page.getByLabel('Load model').setInputFiles([onnx, data]);
    await expect(page.getByTestId('model-summary')).toContainText('decoder.onnx', { timeout: 600_000 });
    const loadMs = Date.now() - t0;
    await page.getByRole('button', { name: /^q4 \(MatMulNBits/ }).click();
    const downloads: Download[] = [];
    page.on('download', (d) => downloads.push(d));
    const t1 = Date.now();
    await page.getByRole('button', { name: 'Export' }).click();
    await expect(page.getByTestId('export-data-file')).toHaveText('model_q4.onnx_data', { timeout: 1_500_000 });
    await expect.poll(() => downloads.length, { timeout: 600_000 }).toBe(2);
    const exportMs = Date.now() - t1;
    await Promise.all(downloads.map((d) => d.path()));
    const peak = rendererPeakBytes();
    const longTasks = await readLongTasks();
    const tags = { data_gb: Number(gb), layers };
    const lines = [
      {
        name: `page_ext_q4_${gb}gb_renderer_peak_rss`,
        value: Math.round(peak / MIB),
        unit: 'MiB',
        ...(layers === 12 ? { target: 1024 } : {}),
        before_load_mib: Math.round(before / MIB),
        ...tags,
      },
      { name: `page_ext_q4_${gb}gb_export`, value: exportMs, unit: 'ms', load_ms: loadMs, ...tags },
      {
        name: `page_ext_q4_${gb}gb_mb_per_s`,
        value: Number((statSync(data).size / 1e6 / (exportMs / 1000)).toFixed(1)),
        unit: 'MB/s',
        ...tags,
      },
      {
        name: 'page_longest_task_ms',
        value: Math.round(Math.max(0, ...longTasks)),
        unit: 'ms',
        target: 50,
        flow: `decoder_${gb}gb_load_export_q4`,
        long_tasks: longTasks.length,
      },
      {
        name: `page_ext_q4_${gb}gb_longest_task`,
        value: Math.round(Math.max(0, ...longTasks)),
        unit: 'ms',
        target: 50,
        long_tasks: longTasks.length,
        ...tags,
      },
    ];
    for (const line of lines) console.log(`BENCH ${JSON.stringify(line)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
