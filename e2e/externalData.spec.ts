/**
 * A model with external data in the page: its .onnx and data file picked together load (a missing or
 * short data file is named), and its q4 export (MatMulNBits) comes back as the .onnx plus the data
 * file it names, which together load in onnxruntime-node and agree with the float model. It also
 * calibrates (the worker's session gets the data file by the name the .onnx records) and exports as
 * static QDQ, checked against the float model in the page and again here. Compare and the debugger run
 * on it in the page's worker (each session given the data files) and give the numbers onnxruntime-node
 * and the command line (`quantscope debug`) give for the same models and samples.
 */
import { expect, test, type Download } from '@playwright/test';
import * as ort from 'onnxruntime-node';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqnr } from '../src/core/metrics';
import { makeNpy } from '../test/helpers/npy';
import { QuantscopePage } from './app';

const ROOT = join(import.meta.dirname, '..');

let dir = '';
let onnxPath = '';
let dataPath = '';

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quantscope-ext-'));
  // the ONNX layer's JSON does not load in Playwright's loader: the model is written by a script
  execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/make-external-model.ts'), dir], {
    cwd: ROOT,
  });
  onnxPath = join(dir, 'decoder.onnx');
  dataPath = join(dir, 'decoder.onnx_data');
});

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function logits(modelPath: string, tokens = [3n, 17n, 42n, 5n, 90n, 1n]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(modelPath);
  const ids = new ort.Tensor('int64', BigInt64Array.from(tokens), [1, tokens.length]);
  const out = (await s.run({ input_ids: ids })).logits!.data as Float32Array;
  await s.release();
  return out;
}

test('an .onnx with its data file, picked together, exports as q4 with its data file; both run in onnxruntime', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  await app.open();
  await page.getByLabel('Load model').setInputFiles([onnxPath, dataPath]);
  await expect(page.getByTestId('model-summary')).toContainText('decoder.onnx');

  await page.getByRole('button', { name: /^q4 \(MatMulNBits/ }).click();
  const downloads: Promise<Download>[] = [];
  page.on('download', (d) => downloads.push(Promise.resolve(d)));
  // the check that the file loads runs in a worker of its own (onnxruntime-web's JSPI build), ended when it answers
  const checks = { started: 0, closed: 0 };
  page.on('worker', (w) => {
    if (!/exportCheck\.worker/.test(w.url())) return;
    checks.started++;
    w.on('close', () => checks.closed++);
  });
  await page.getByRole('button', { name: 'Export' }).click();
  await expect(page.getByTestId('export-data-file')).toHaveText('model_q4.onnx_data');
  expect(checks.started).toBe(1);
  await expect.poll(() => checks.closed).toBe(1);
  await expect.poll(() => downloads.length).toBe(2);
  const [onnx, data] = await Promise.all(downloads);
  expect(onnx!.suggestedFilename()).toBe('model_q4.onnx');
  expect(data!.suggestedFilename()).toBe('model_q4.onnx_data');
  const out = mkdtempSync(join(tmpdir(), 'quantscope-ext-out-'));
  try {
    copyFileSync((await onnx!.path())!, join(out, 'model_q4.onnx'));
    copyFileSync((await data!.path())!, join(out, 'model_q4.onnx_data'));
    // the .onnx is a small header naming its data file (the weights are there), with MatMulNBits nodes
    const header = readFileSync(join(out, 'model_q4.onnx'));
    expect(header.includes('model_q4.onnx_data')).toBe(true);
    expect(header.includes('MatMulNBits')).toBe(true);
    expect(header.length).toBeLessThan(readFileSync(join(out, 'model_q4.onnx_data')).length);
    const reference = await logits(onnxPath);
    expect(sqnr(reference, await logits(join(out, 'model_q4.onnx')))).toBeGreaterThan(10);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('an export check whose worker cannot start fails the export with WORKER_FAILED, naming the file; nothing is offered', async ({
  page,
}) => {
  // the check's worker script does not load: the worker's 'error' event, not silence, answers the check
  await page.route(/exportCheck\.worker[^/]*\.js$/, (route) => route.abort());
  const app = new QuantscopePage(page);
  await app.open();
  await page.getByLabel('Load model').setInputFiles([onnxPath, dataPath]);
  await expect(page.getByTestId('model-summary')).toContainText('decoder.onnx');
  await page.getByRole('button', { name: /^q4 \(MatMulNBits/ }).click();
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: 'Export' }).click();
  const error = page.getByTestId('export-error');
  await expect(error).toHaveAttribute('data-code', 'WORKER_FAILED');
  await expect(error).toContainText('model_q4.onnx_data');
  await expect(page.getByTestId('export-result')).toHaveCount(0);
  expect(downloads).toEqual([]);
  // the page keeps working: the next export's check gets a fresh worker
  await page.unroute(/exportCheck\.worker[^/]*\.js$/);
  await page.getByRole('button', { name: 'Export' }).click();
  await expect(page.getByTestId('export-data-file')).toHaveText('model_q4.onnx_data');
  await expect(page.getByTestId('export-error')).toHaveCount(0);
});

test('an .onnx with its data file, dropped together, calibrates and exports as static QDQ that agrees with the float model', async ({
  page,
}) => {
  const app = new QuantscopePage(page);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await app.open();
  await app.dropModelFiles([
    { name: 'decoder.onnx', buffer: readFileSync(onnxPath) },
    { name: 'decoder.onnx_data', buffer: readFileSync(dataPath) },
  ]);
  await expect(page.getByTestId('model-summary')).toContainText('decoder.onnx');
  // token ids (int64 [1, 8]) as calibration data: the vocabulary is 96 tokens
  const tokensOf = (k: number) => Array.from({ length: 8 }, (_, i) => BigInt((i * 37 + k * 11 + 5) % 96));
  const files = [0, 1, 2, 3].map((k) => ({
    name: `ids${k}.npy`,
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(makeNpy('<i8', [1, 8], BigInt64Array.from(tokensOf(k)))),
  }));
  await page.getByLabel('Calibration data').setInputFiles(files);
  await expect(page.getByTestId('data-label')).toHaveText('4 tensor samples from your files');
  await app.calibrate();
  await expect(page.getByTestId('tensor-list').getByRole('button').first()).toBeVisible();

  const downloads: Promise<Download>[] = [];
  page.on('download', (d) => downloads.push(Promise.resolve(d)));
  await page.getByRole('button', { name: 'Export' }).click();
  await expect(page.getByTestId('export-data-file')).toHaveText('decoder.int8.onnx_data');
  // the page compared it with the float model (both sessions with their data files)
  await expect(page.getByTestId('guard-pass').or(page.getByTestId('guard-alert'))).toBeVisible();
  await expect.poll(() => downloads.length).toBe(2);
  const [onnx, data] = await Promise.all(downloads);
  expect(onnx!.suggestedFilename()).toBe('decoder.int8.onnx');
  expect(data!.suggestedFilename()).toBe('decoder.int8.onnx_data');
  const out = mkdtempSync(join(tmpdir(), 'quantscope-ext-qdq-'));
  try {
    copyFileSync((await onnx!.path())!, join(out, 'decoder.int8.onnx'));
    copyFileSync((await data!.path())!, join(out, 'decoder.int8.onnx_data'));
    const header = readFileSync(join(out, 'decoder.int8.onnx'));
    expect(header.includes('QuantizeLinear')).toBe(true);
    const tokens = [7n, 30n, 61n, 2n, 88n, 15n, 44n, 9n];
    const reference = await logits(onnxPath, tokens);
    const quantized = await logits(join(out, 'decoder.int8.onnx'), tokens);
    // a broken calibration (a range of 0 or of the wrong tensor) drops this far below
    expect(sqnr(reference, quantized)).toBeGreaterThan(20);

    // Compare ran after Export in the worker, both sessions given their data files: its mean SQNR over
    // the 4 calibration samples is the one onnxruntime-node gives for the same files and samples
    await expect(page.getByTestId('compare-error')).toHaveCount(0);
    const pageSqnr = Number(await page.getByTestId('compare-sqnr').first().textContent());
    let nodeSqnr = 0;
    for (const k of [0, 1, 2, 3])
      nodeSqnr +=
        sqnr(await logits(onnxPath, tokensOf(k)), await logits(join(out, 'decoder.int8.onnx'), tokensOf(k))) / 4;
    console.log(`external data compare SQNR: page ${pageSqnr.toFixed(2)} dB, node ${nodeSqnr.toFixed(2)} dB`);
    expect(pageSqnr).toBeGreaterThan(20);
    expect(Math.abs(pageSqnr - nodeSqnr)).toBeLessThan(0.5);

    // speed: both sessions with their data files (a ratio, not an error)
    await page.getByRole('button', { name: 'Measure speed in this browser' }).click();
    await expect(page.getByTestId('speed-ratio-wasm')).toHaveText(/^\d+\.\d\d×$/);

    // The debugger in the worker: the float model with its data file and the static QDQ file built there
    // (quantized weights inline, the rest the same external references). Its held-out sample is the last
    // of the 4 (no held-out data given); `quantscope debug` on the same files and sample gives its figures.
    await page.getByRole('tab', { name: 'Error by tensor' }).click();
    await page.getByRole('button', { name: 'Run the debugger' }).click();
    const run = page.getByTestId('debug-run');
    await expect(run).toHaveAttribute('data-status', /^(done|error)$/, { timeout: 120_000 });
    await expect(page.getByTestId('debug-run-error')).toHaveCount(0);
    type Row = { tensor: string; kind: string; node: string; accumulated: { sqnrDb: number } };
    const pageRows = await page.evaluate(
      () =>
        (
          window as unknown as { quantscope: { getState(): { debug: { result: { tensors: Row[] } | null } } } }
        ).quantscope.getState().debug.result!.tensors,
    );
    expect(pageRows.filter((r) => r.kind === 'activation').length).toBeGreaterThan(3);
    expect(pageRows.filter((r) => r.kind === 'weight').length).toBeGreaterThan(3);
    writeFileSync(join(out, 'ids3.npy'), files[3]!.buffer);
    copyFileSync(onnxPath, join(out, 'decoder.onnx'));
    copyFileSync(dataPath, join(out, 'decoder.onnx_data'));
    const cli = JSON.parse(
      execFileSync(
        process.execPath,
        [
          join(ROOT, 'bin', 'quantscope.mjs'),
          'debug',
          join(out, 'decoder.onnx'),
          join(out, 'decoder.int8.onnx'),
          '--data',
          join(out, 'ids3.npy'),
          '--json',
        ],
        { cwd: ROOT, encoding: 'utf8' },
      ),
    ) as { tensors: Row[] };
    const cliDb = new Map(cli.tensors.map((r) => [`${r.kind}:${r.node}:${r.tensor}`, Number(r.accumulated.sqnrDb)]));
    expect(cliDb.size).toBe(pageRows.length);
    for (const r of pageRows) {
      const c = cliDb.get(`${r.kind}:${r.node}:${r.tensor}`);
      expect(c, `${r.kind} ${r.tensor} in quantscope debug`).toBeDefined();
      // float weights against dequantized ones are the same arithmetic; activations differ by the two
      // runtimes' kernels only
      expect(Math.abs(Math.min(r.accumulated.sqnrDb, 150) - Math.min(c!, 150)), r.tensor).toBeLessThan(
        r.kind === 'activation' ? 0.5 : 0.01,
      );
    }

    // sensitivity: the switchboard's session gets the data file too (the groups the debugger found worst)
    await page.getByRole('tab', { name: 'Sensitivity' }).click();
    await page.getByLabel('Groups to rank').selectOption('worst');
    await page.getByRole('button', { name: 'Run sensitivity' }).click();
    const srun = page.getByTestId('sensitivity-run');
    await expect(srun).toHaveAttribute('data-status', /^(done|error)$/, { timeout: 120_000 });
    await expect(page.getByTestId('sensitivity-run-error')).toHaveCount(0);
    const ranked = await page
      .getByTestId('sensitivity-row')
      .evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-sqnr'))));
    expect(ranked.length).toBeGreaterThan(1);
    // SQNR with only that group quantized, most sensitive first (+Infinity: a group that quantizes exactly)
    expect(ranked.every((x) => x > 20)).toBe(true);
    for (let i = 1; i < ranked.length; i++) expect(ranked[i]!).toBeGreaterThanOrEqual(ranked[i - 1]!);

    // Tune: the switchboard and the chosen file's check run with the data file; the result is shown
    await page.getByRole('button', { name: 'Tune', exact: true }).click();
    const status = page.getByTestId('tune-status');
    await expect(status).toHaveAttribute('data-status', /^(done|error)$/, { timeout: 180_000 });
    await expect(page.getByTestId('tune-error')).toHaveCount(0);
    await expect(page.getByTestId('tune-result')).toContainText('on output logits');
    // sizes are fractions of the float model's two files: int8 weights with the float embedding left in
    // the data file measure about 37% (counting the .onnx alone would read thousands of percent)
    const tuned = (await page.getByTestId('tune-result').textContent())!;
    const size = Number(/size [\d.]+ KiB, ([\d.]+)% of the float file/.exec(tuned)?.[1]);
    expect(size, tuned).toBeGreaterThan(25);
    expect(size, tuned).toBeLessThan(50);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  expect(errors).toEqual([]);
});

test('a missing or short data file is named, and the page keeps working', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  await page.getByLabel('Load model').setInputFiles([onnxPath]);
  const error = page.getByTestId('model-error');
  await expect(error).toHaveAttribute('data-code', 'EXTERNAL_DATA');
  await expect(error).toContainText('decoder.onnx keeps tensor');

  const short = join(dir, 'short', 'decoder.onnx_data');
  rmSync(join(dir, 'short'), { recursive: true, force: true });
  mkdirSync(join(dir, 'short'));
  copyFileSync(dataPath, short);
  truncateSync(short, 1000);
  await page.getByLabel('Load model').setInputFiles([onnxPath, short]);
  await expect(error).toHaveAttribute('data-code', 'EXTERNAL_DATA_SHORT');
  await expect(error).toContainText('decoder.onnx_data is 1000 bytes, too short');

  await page.getByLabel('Load model').setInputFiles([onnxPath, dataPath]);
  await expect(page.getByTestId('model-summary')).toContainText('decoder.onnx');
});

test('a folder picked with Load folder gives the model its data file', async ({ page }) => {
  const folder = join(dir, 'folder');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder);
  copyFileSync(onnxPath, join(folder, 'decoder.onnx'));
  copyFileSync(dataPath, join(folder, 'decoder.onnx_data'));
  const app = new QuantscopePage(page);
  await app.open();
  await page.getByLabel('Load folder').setInputFiles(folder);
  await expect(page.getByTestId('model-summary')).toContainText('decoder.onnx');
  await expect(page.getByTestId('model-error')).toHaveCount(0);
});
