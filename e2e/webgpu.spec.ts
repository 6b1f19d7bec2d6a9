/**
 * WebGPU on the software (SwiftShader) adapter that headless Chromium offers with
 * --enable-unsafe-webgpu: correct but 60-100x slower than WASM, so only a tiny model here.
 *  - The statistics folded on the GPU (runtime/gpuHistogram.ts: activations left on the device,
 *    min/max and the histogram by compute shaders) equal, bin for bin and bit for bit, the CPU
 *    fold of the same WebGPU activations (read back and folded by the WASM kernel).
 *  - A run on WebGPU gives the statistics a WASM run gives, within a measured tolerance (the two
 *    backends' kernels differ: max relative difference of any tensor's min/max about 1e-7; asserted 1e-4).
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHistogram, histogramEdges } from '../src/core/histogram';
import { updateHistogram } from '../src/core/histogramFold';
import { planHistogramUpdate } from '../src/core/histogramPlan';
import type { HistogramState } from '../src/core/histogram';
import { mulberry32 } from '../src/core/random';
import { makeNpy } from '../test/helpers/npy';
import { QuantscopePage } from './app';

type Ranges = Record<string, [number, number]>;

interface Folded {
  min: number;
  max: number;
  batchMin: number[];
  batchMax: number[];
  threshold: number;
  total: number;
  nanCount: number;
  counts: number[];
}

/** Every tensor's statistics as the page holds them (signed zeros kept: -0 and 0 differ in Object.is). */
async function folded(page: Page): Promise<Record<string, Folded>> {
  return page.evaluate(() => {
    type H = { threshold: number; total: number; nanCount: number; counts: Float64Array };
    type S = { minmax: { min: number; max: number }; batchMin: Float32Array; batchMax: Float32Array; histogram: H };
    const s = (
      window as unknown as { quantscope: { getState(): { calibration: { stats: Record<string, S> } } } }
    ).quantscope.getState();
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s.calibration.stats))
      out[k] = {
        min: v.minmax.min,
        max: v.minmax.max,
        batchMin: Array.from(v.batchMin),
        batchMax: Array.from(v.batchMax),
        threshold: v.histogram.threshold,
        total: v.histogram.total,
        nanCount: v.histogram.nanCount,
        counts: Array.from(v.histogram.counts),
      };
    return out as Record<string, Folded>;
  });
}

async function ranges(page: Page): Promise<Ranges> {
  return page.evaluate(() => {
    const s = (
      window as unknown as {
        quantscope: {
          getState(): { calibration: { stats: Record<string, { minmax: { min: number; max: number } }> } };
        };
      }
    ).quantscope.getState();
    return Object.fromEntries(Object.entries(s.calibration.stats).map(([k, v]) => [k, [v.minmax.min, v.minmax.max]]));
  });
}

/** Calibrate again on WebGPU with the activations read back and folded on the CPU: the reference. */
async function foldedOnCpu(app: QuantscopePage): Promise<Record<string, Folded>> {
  await app.page.evaluate(() =>
    (window as unknown as { quantscope: { setState(s: object): void } }).quantscope.setState({ gpuFold: false }),
  );
  await app.calibrate(200_000);
  await expect(app.page.getByTestId('statistics-fold')).toHaveText('; statistics folded on the CPU (as asked)');
  return folded(app.page);
}

/** The GPU fold's statistics equal the CPU fold's, bin for bin and bit for bit; returns the bins compared. */
function expectSameFold(onGpu: Record<string, Folded>, onCpu: Record<string, Folded>): number {
  expect(Object.keys(onGpu).sort()).toEqual(Object.keys(onCpu).sort());
  let bins = 0;
  for (const [t, c] of Object.entries(onCpu)) {
    const g = onGpu[t]!;
    // toStrictEqual tells -0 from 0 (Object.is), as the CPU scan's signed zeros require
    expect({ tensor: t, ...g, counts: undefined }, t).toStrictEqual({ tensor: t, ...c, counts: undefined });
    expect(g.counts.length, t).toBe(c.counts.length);
    const differing = g.counts.flatMap((n, i) => (n === c.counts[i] ? [] : [`bin ${i}: gpu ${n}, cpu ${c.counts[i]}`]));
    expect(differing.slice(0, 5), `${t}: ${differing.length} bins differ`).toEqual([]);
    expect(c.total).toBeGreaterThan(0);
    bins += c.counts.length;
  }
  return bins;
}

async function hasAdapter(page: Page): Promise<boolean> {
  return page.evaluate(async () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return gpu ? (await gpu.requestAdapter()) !== null : false;
  });
}

test('a tiny model calibrates on WebGPU, with the statistics WASM gives', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  test.skip(!(await hasAdapter(page)), 'this browser has no WebGPU adapter');
  await app.loadModelFile(
    'tiny-conv.onnx',
    readFileSync(join(import.meta.dirname, '..', 'test/fixtures/models/tiny-conv.onnx')),
  );
  await expect(page.getByTestId('model-summary')).toContainText('tiny-conv.onnx');
  await app.useBuiltInDocuments();
  await page.getByLabel('Backend').selectOption('webgpu');
  await expect(page.getByTestId('webgpu-fallback')).toContainText('software fallback');
  await app.calibrate(200_000);
  await expect(page.getByTestId('session-info')).toContainText('webgpu');
  await expect(page.getByTestId('statistics-fold')).toHaveText('; statistics folded on the GPU');
  await expect(page.getByTestId('histogram')).toBeVisible();
  const gpu = await ranges(page);
  const onGpu = await folded(page);

  const onCpu = await foldedOnCpu(app);
  const bins = expectSameFold(onGpu, onCpu);
  console.log(`webgpu: GPU fold equals the CPU fold bin for bin (${Object.keys(onCpu).length} tensors, ${bins} bins)`);

  await page.getByLabel('Backend').selectOption('wasm');
  await app.calibrate();
  await expect(page.getByTestId('session-info')).toContainText('wasm');
  const cpu = await ranges(page);
  expect(Object.keys(gpu).sort()).toEqual(Object.keys(cpu).sort());
  let worst = 0;
  for (const [t, [lo, hi]] of Object.entries(cpu)) {
    const scale = Math.max(Math.abs(lo), Math.abs(hi), 1e-6);
    worst = Math.max(worst, Math.abs(gpu[t]![0] - lo) / scale, Math.abs(gpu[t]![1] - hi) / scale);
  }
  test.info().annotations.push({ type: 'webgpu-vs-wasm max relative difference', description: worst.toExponential(2) });
  console.log(`webgpu vs wasm: max relative difference of tensor ranges ${worst.toExponential(2)}`);
  expect(worst).toBeLessThan(1e-4);
});

/** float32 neighbours: the next representable value up or down (through ±0 to the smallest subnormals). */
function nextFloat32(x: number, up: boolean): number {
  if (x === 0) return up ? 2 ** -149 : -(2 ** -149);
  const f = Float32Array.of(x);
  const u = new Uint32Array(f.buffer);
  u[0] = u[0]! + (x > 0 === up ? 1 : -1);
  return f[0]!;
}

/**
 * 3200 values (the block model's input X) whose largest |x| is `t`: values ON numpy's float32 edges of
 * the range this sample is binned into and one ulp either side, ±0, subnormals, the smallest normal,
 * and random values between.
 */
function adversarialSample(t: number, state: HistogramState, seed: number): Float32Array {
  const step = planHistogramUpdate(state, { min: -t, max: t, count: 1, nanCount: 0, infCount: 0 });
  if (!('merge' in step)) throw new Error('nothing to bin');
  const edges = histogramEdges(step.lo, step.hi, step.bins);
  const rand = mulberry32(seed);
  const specials = [t, -t, 0, -0, 0, 2 ** -149, -(2 ** -149), 1e-40, -1e-40, 2 ** -126, -(2 ** -126)];
  const out = new Float32Array(3200);
  out.set(specials);
  for (let k = specials.length; k < out.length; k += 3) {
    const e = edges[Math.floor(rand() * edges.length)]!;
    const v = rand() < 0.1 ? (2 * rand() - 1) * t : e;
    [v, nextFloat32(v, true), nextFloat32(v, false)].forEach((x, j) => {
      if (k + j < out.length) out[k + j] = Math.max(-t, Math.min(t, x));
    });
  }
  return out;
}

test('the GPU fold bins values on the edges, ±0 and subnormals as the CPU fold does', async ({ page }) => {
  const app = new QuantscopePage(page);
  await app.open();
  test.skip(!(await hasAdapter(page)), 'this browser has no WebGPU adapter');
  const model = readFileSync(join(import.meta.dirname, '..', 'test/fixtures/models/block-conv.onnx'));
  await app.loadModelFile('block-conv.onnx', model);
  await expect(page.getByTestId('model-summary')).toContainText('block-conv.onnx');
  // three samples of X: a first range, one that grows it (bins added at the old stride), one inside it
  let state = createHistogram(2048);
  const samples = [0.3, 1.1, 0.07].map((t, k) => {
    const x = adversarialSample(t, state, 7 + k);
    state = updateHistogram(state, x, 'X');
    return x;
  });
  await page.getByLabel('Calibration data').setInputFiles(
    samples.map((x, k) => ({
      name: `edges${k}.npy`,
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(makeNpy('<f4', [1, 32, 10, 10], x)),
    })),
  );
  await expect(page.getByTestId('data-label')).toHaveText('3 tensor samples from your files');
  await page.getByLabel('Backend').selectOption('webgpu');
  await app.calibrate(200_000);
  await expect(page.getByTestId('statistics-fold')).toHaveText('; statistics folded on the GPU');
  const onGpu = await folded(page);
  const onCpu = await foldedOnCpu(app);
  expectSameFold(onGpu, onCpu);
  // the input reached the folds bit for bit: X's histogram is the one core/histogram makes of the samples
  expect(onCpu.X!.counts).toEqual(Array.from(state.counts));
  expect(onGpu.X!.threshold).toBe(state.threshold);
});
