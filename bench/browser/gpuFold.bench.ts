/**
 * The WebGPU statistics fold against the CPU fold, in the page, on the sample (PP-OCRv4 det on the
 * built-in documents): calibration on WebGPU with the activations folded on the GPU
 * (runtime/gpuHistogram.ts), then the same calibration with them read back and folded on the CPU (the
 * WASM kernel), alternated. Printed as JSON lines that bench/run.ts passes on.
 *
 * Only where the browser has a real (non-fallback) adapter: SwiftShader's software adapter is 60-100x
 * slower than WASM and says nothing about GPU speed, so there (and with no adapter) one skip line is
 * printed and the bench passes. Never a pass/fail figure: speed is reported, not required.
 *
 * One command over the built app (serves it on QS_PORT like e2e; Debian's Chromium or CHROMIUM_PATH):
 *   QS_PORT=4186 npx playwright test -c bench/playwright.bench.config.ts gpuFold
 * On a GPU machine headless Chromium may need flags to reach the GPU (QS_WEBGPU_ARGS, space-separated),
 * e.g. QS_WEBGPU_ARGS="--enable-features=Vulkan --use-angle=vulkan --ignore-gpu-blocklist".
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QuantscopePage } from '../../e2e/app';

const ROUNDS = Number(process.env.BENCH_GPU_ROUNDS ?? 2);
/**
 * BENCH_GPU_FALLBACK=1 runs the bench on a software adapter too, on the tiny e2e model (to check the
 * bench itself where no GPU is: its figures then say nothing about GPU speed).
 */
const ON_FALLBACK = process.env.BENCH_GPU_FALLBACK === '1';

function bench(line: Record<string, unknown>): void {
  const rounded = Object.entries(line).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toPrecision(4)) : v]);
  console.log(`BENCH ${JSON.stringify(Object.fromEntries(rounded))}`);
}

interface Run {
  ms: number;
  inferenceMs: number;
  samples: number;
  fold: string;
  counts: Record<string, number[]>;
}

async function lastRun(page: Page): Promise<Run> {
  return page.evaluate(() => {
    type S = { histogram: { counts: Float64Array } };
    const s = (
      window as unknown as {
        quantscope: {
          getState(): {
            calibration: {
              ms: number;
              inferenceMs: number;
              progress: { total: number };
              session: { statisticsFold?: string };
              stats: Record<string, S>;
            };
          };
        };
      }
    ).quantscope.getState().calibration;
    const counts: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(s.stats)) counts[k] = Array.from(v.histogram.counts);
    return {
      ms: s.ms,
      inferenceMs: s.inferenceMs,
      samples: s.progress.total,
      fold: s.session.statisticsFold ?? '',
      counts,
    };
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('the WebGPU statistics fold against the CPU fold', async ({ page }) => {
  test.setTimeout(900_000);
  const app = new QuantscopePage(page);
  await app.open();
  const adapter = await page.evaluate(async () => {
    type Info = { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
    const gpu = (
      navigator as unknown as {
        gpu?: { requestAdapter(): Promise<{ info?: Info; isFallbackAdapter?: boolean } | null> };
      }
    ).gpu;
    const a = gpu ? await gpu.requestAdapter().catch(() => null) : null;
    if (!a) return { available: false, fallback: false, name: '' };
    const info = a.info ?? {};
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ');
    return {
      available: true,
      fallback: Boolean(info.isFallbackAdapter ?? a.isFallbackAdapter ?? /swiftshader/i.test(name)),
      name,
    };
  });
  if (!adapter.available || (adapter.fallback && !ON_FALLBACK)) {
    bench({
      name: 'webgpu_fold_ms_per_sample',
      value: null,
      unit: 'ms',
      skipped: adapter.available
        ? `only a software fallback adapter (${adapter.name || 'unnamed'}): GPU speed not measured`
        : 'no WebGPU adapter in this browser: GPU speed not measured',
    });
    return;
  }
  if (adapter.fallback) {
    const tiny = readFileSync(join(import.meta.dirname, '..', '..', 'test/fixtures/models/tiny-conv.onnx'));
    await app.loadModelFile('tiny-conv.onnx', tiny);
    await expect(page.getByTestId('model-summary')).toContainText('tiny-conv.onnx');
    await app.useBuiltInDocuments();
  } else await app.useSample();
  await page.getByLabel('Backend').selectOption('webgpu');
  const setFold = (on: boolean) =>
    page.evaluate(
      (gpuFold) =>
        (window as unknown as { quantscope: { setState(s: object): void } }).quantscope.setState({ gpuFold }),
      on,
    );
  // a first calibration each way warms the sessions and shader caches; then alternated rounds
  const runs: Record<'gpu' | 'cpu', Run[]> = { gpu: [], cpu: [] };
  for (let r = 0; r <= ROUNDS; r++) {
    for (const way of ['gpu', 'cpu'] as const) {
      await setFold(way === 'gpu');
      await app.calibrate(600_000);
      const run = await lastRun(page);
      expect(run.fold, `the ${way} fold ran`).toContain(way === 'gpu' ? 'on the GPU' : 'on the CPU');
      if (r > 0) runs[way].push(run);
    }
  }
  const perSample = (way: 'gpu' | 'cpu', f: (r: Run) => number) => median(runs[way].map((r) => f(r) / r.samples));
  const foldGpu = perSample('gpu', (r) => r.ms - r.inferenceMs);
  const foldCpu = perSample('cpu', (r) => r.ms - r.inferenceMs);
  const gpu = runs.gpu.at(-1)!;
  const cpu = runs.cpu.at(-1)!;
  let differing = 0;
  for (const [t, c] of Object.entries(cpu.counts)) {
    const g = gpu.counts[t] ?? [];
    if (g.length !== c.length) differing += Math.max(g.length, c.length);
    else c.forEach((n, i) => (differing += n === g[i] ? 0 : 1));
  }
  const common = {
    adapter: adapter.name,
    model: adapter.fallback ? 'tiny-conv (software adapter: not a GPU speed)' : 'PP-OCRv4 det',
    samples: gpu.samples,
    rounds: ROUNDS,
  };
  bench({
    name: 'webgpu_fold_ms_per_sample',
    value: foldGpu,
    unit: 'ms',
    ...common,
    note: 'calibration time less session.run time, per sample: the GPU fold (extremes, bins, read-back of the counts); session.run may return before the GPU has finished, so the rest of inference can count here: compare the totals below too',
  });
  bench({
    name: 'webgpu_cpu_fold_ms_per_sample',
    value: foldCpu,
    unit: 'ms',
    ...common,
    note: 'the same WebGPU activations read back and folded on the CPU (the WASM kernel)',
  });
  bench({ name: 'webgpu_fold_speedup', value: foldCpu / foldGpu, unit: 'x', ...common });
  bench({ name: 'webgpu_calibration_ms_per_sample', value: perSample('gpu', (r) => r.ms), unit: 'ms', ...common });
  bench({
    name: 'webgpu_calibration_cpu_fold_ms_per_sample',
    value: perSample('cpu', (r) => r.ms),
    unit: 'ms',
    ...common,
  });
  bench({
    name: 'webgpu_inference_ms_per_sample',
    value: perSample('gpu', (r) => r.inferenceMs),
    unit: 'ms',
    ...common,
    note: 'session.run with outputs left on the GPU',
  });
  bench({
    name: 'webgpu_calibration_over_inference',
    value: perSample('gpu', (r) => r.ms) / perSample('gpu', (r) => r.inferenceMs),
    unit: 'x',
    target: 1.3,
    ...common,
  });
  bench({ name: 'webgpu_fold_bins_differing', value: differing, unit: 'bins', target: 0, ...common });
});
