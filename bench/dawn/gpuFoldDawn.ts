/**
 * The WebGPU statistics fold (runtime/gpuHistogram.ts, the page's own shaders and fold) on a real GPU
 * without a browser: Dawn, the WebGPU implementation inside Chromium, run from Node through the
 * `webgpu` package's dawn.node. For a GPU machine that cannot hold a browser (no display, and a
 * Chromium too large to send there); bench/browser/gpuFold.bench.ts is the same measurement in the page.
 *
 * On PP-OCRv4 det and the built-in documents: each sample runs once in onnxruntime-web (WASM, on the
 * CPU) with every activation as an output; the activations are then
 *  - folded on the CPU, as the WASM calibration does (calibrate.ts foldTensor, the SIMD kernel), and
 *  - written to GPU buffers and folded there (gpuHistogramFold.ts gpuFold), as a WebGPU calibration
 *    folds the buffers onnxruntime leaves on the device; the upload is timed apart, since in the page
 *    the activations are already on the GPU.
 * Printed as JSON lines; the two folds' statistics are compared bin for bin (target 0 differing).
 *
 * Built by scripts/pack-dawn-bench.mjs into one folder with the model and documents; run there as
 *   node gpuFoldDawn.mjs --dawn DAWN_INDEX_JS [--threads N] [--rounds R] det.onnx doc-01.png ...
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename } from 'node:path';
import * as ort from 'onnxruntime-web';
import { decodePng, imageToTensor, PPOCR_DET_PRESET } from '../../src/data/image';
import { encodeModel } from '../../src/onnx/codec';
import { withExtraOutputs } from '../../src/onnx/calibrationModel';
import { emptyStats, foldTensor, type StatsMap } from '../../src/runtime/calibrate';
import { GpuStatistics } from '../../src/runtime/gpuHistogram';
import type { GpuDevice } from '../../src/runtime/gpuHistogramWebGpu';
import { gpuFold } from '../../src/runtime/gpuHistogramFold';
import type { Tensor } from '../../src/runtime/ort';
import { prepareModelBytes } from '../../src/runtime/modelJob';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const v = process.argv[at + 1]!;
  process.argv.splice(at, 2);
  return v;
}
const dawnPath = flag('--dawn', '');
const threads = Number(flag('--threads', String(Math.min(8, cpus().length))));
const rounds = Number(flag('--rounds', '3'));
const [modelPath, ...images] = process.argv.slice(2);
if (!dawnPath || !modelPath || images.length === 0) {
  console.error('usage: node gpuFoldDawn.mjs --dawn DAWN_INDEX_JS [--threads N] [--rounds R] det.onnx doc.png ...');
  process.exit(2);
}

function bench(line: Record<string, unknown>): void {
  const rounded = Object.entries(line).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toPrecision(4)) : v]);
  console.log(JSON.stringify(Object.fromEntries(rounded)));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

// --- the GPU: Dawn's adapter, as navigator.gpu would give it
const dawn = (await import(dawnPath)) as { create(o: string[]): unknown; globals: object };
Object.assign(globalThis, dawn.globals);
type Adapter = {
  info: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
  requestDevice(d?: object): Promise<unknown>;
};
const gpu = dawn.create([]) as { requestAdapter(o?: object): Promise<Adapter | null> };
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  bench({ name: 'dawn_webgpu_fold_ms_per_sample', value: null, skipped: 'no WebGPU adapter from Dawn' });
  process.exit(0);
}
const adapterName = [adapter.info.vendor, adapter.info.architecture, adapter.info.description]
  .filter(Boolean)
  .join(' ');
const device = (await adapter.requestDevice({
  requiredLimits: {
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  },
})) as GpuDevice & { queue: { onSubmittedWorkDone(): Promise<void> } };
const statistics = await GpuStatistics.create(device);
const fold = gpuFold(statistics);

// --- the model and its activations (onnxruntime-web WASM on the CPU, as the page's WASM backend)
ort.env.wasm.numThreads = threads;
const model = prepareModelBytes(basename(modelPath), new Uint8Array(readFileSync(modelPath)), true);
const tensors = model.plan.activations;
const session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(model.prepared, tensors)));
const inputName = session.inputNames[0]!;
const feeds = images.map((p) => imageToTensor(decodePng(new Uint8Array(readFileSync(p)), p), PPOCR_DET_PRESET));

const STORAGE = 0x80;
const COPY_DST = 0x8;
type Outputs = Record<string, { data: Float32Array; dims: readonly number[] }>;

/** One calibration over every sample, folded on the CPU and on the GPU; times per sample. */
async function calibrateBothWays(): Promise<{
  cpu: StatsMap;
  gpu: StatsMap;
  inferenceMs: number[];
  cpuFoldMs: number[];
  cpuFoldCpuMs: number[];
  uploadMs: number[];
  gpuFoldMs: number[];
  bytes: number;
}> {
  let cpuStats = emptyStats(tensors);
  const gpuStats = emptyStats(tensors);
  const times = { inferenceMs: [] as number[], cpuFoldMs: [] as number[], cpuFoldCpuMs: [] as number[] };
  const uploadMs: number[] = [];
  const gpuFoldMs: number[] = [];
  let bytes = 0;
  for (const f of feeds) {
    let t = performance.now();
    const out = (await session.run(
      { [inputName]: new ort.Tensor('float32', f.data, f.dims) },
      tensors as string[],
    )) as unknown as Outputs;
    times.inferenceMs.push(performance.now() - t);
    bytes = tensors.reduce((s, k) => s + out[k]!.data.byteLength, 0);

    // the CPU fold, as calibrate.ts runs it for the WASM backend
    const c0 = process.cpuUsage();
    t = performance.now();
    const next: StatsMap = {};
    for (const k of tensors) next[k] = foldTensor(cpuStats[k]!, k, out[k]!.data);
    cpuStats = next;
    times.cpuFoldMs.push(performance.now() - t);
    times.cpuFoldCpuMs.push(cpuMs(process.cpuUsage(c0)));

    // the same activations on the GPU, folded there
    t = performance.now();
    const results: Record<string, Tensor> = {};
    for (const k of tensors) {
      const data = out[k]!.data;
      const buffer = device.createBuffer({
        size: Math.max(4, Math.ceil(data.byteLength / 4) * 4),
        usage: STORAGE | COPY_DST,
      });
      if (data.length) device.queue.writeBuffer(buffer, 0, data);
      results[k] = {
        type: 'float32',
        location: data.length ? 'gpu-buffer' : 'cpu',
        data,
        dims: out[k]!.dims,
        size: data.length,
        gpuBuffer: buffer,
        dispose: () => buffer.destroy(),
      } as unknown as Tensor;
    }
    await device.queue.onSubmittedWorkDone();
    uploadMs.push(performance.now() - t);
    t = performance.now();
    await fold(gpuStats, results, tensors);
    gpuFoldMs.push(performance.now() - t);
  }
  return { cpu: cpuStats, gpu: gpuStats, ...times, uploadMs, gpuFoldMs, bytes };
}

/** Bins (and extremes) where the two folds differ. */
function differing(a: StatsMap, b: StatsMap): { bins: number; extremes: number } {
  let bins = 0;
  let extremes = 0;
  for (const k of tensors) {
    const x = a[k]!;
    const y = b[k]!;
    if (!Object.is(x.minmax.min, y.minmax.min) || !Object.is(x.minmax.max, y.minmax.max)) extremes++;
    const cx = x.histogram.counts;
    const cy = y.histogram.counts;
    if (cx.length !== cy.length) bins += Math.max(cx.length, cy.length);
    else for (let i = 0; i < cx.length; i++) bins += cx[i] === cy[i] ? 0 : 1;
  }
  return { bins, extremes };
}

await calibrateBothWays(); // warm-up: sessions, pipelines, the edge caches
const runs: Awaited<ReturnType<typeof calibrateBothWays>>[] = [];
for (let r = 0; r < rounds; r++) runs.push(await calibrateBothWays());
const per = (f: (r: (typeof runs)[number]) => number[]) => median(runs.flatMap(f));
const common = {
  adapter: adapterName,
  fallback: Boolean(adapter.info.isFallbackAdapter),
  model: basename(modelPath),
  tensors: tensors.length,
  samples: feeds.length,
  rounds,
  activation_mib_per_sample: runs[0]!.bytes / 2 ** 20,
  wasm_threads: threads,
  runtime: 'Dawn (Chromium WebGPU) in Node via dawn.node; inference in onnxruntime-web WASM',
};
const gpuMs = per((r) => r.gpuFoldMs);
const cpuFold = per((r) => r.cpuFoldMs);
bench({ name: 'dawn_webgpu_fold_ms_per_sample', value: gpuMs, unit: 'ms', ...common });
bench({
  name: 'dawn_webgpu_upload_ms_per_sample',
  value: per((r) => r.uploadMs),
  unit: 'ms',
  ...common,
  note: 'writeBuffer of every activation; not paid in the page, where they stay on the GPU',
});
bench({
  name: 'dawn_cpu_fold_ms_per_sample',
  value: cpuFold,
  unit: 'ms',
  ...common,
  cpu_ms: per((r) => r.cpuFoldCpuMs),
  note: "the WASM SIMD kernel on this machine's CPU, one thread",
});
bench({ name: 'dawn_webgpu_fold_speedup', value: cpuFold / gpuMs, unit: 'x', ...common });
bench({
  name: 'dawn_webgpu_fold_gb_per_s',
  value: runs[0]!.bytes / 1e9 / (gpuMs / 1e3),
  unit: 'GB/s',
  ...common,
  note: 'activation bytes folded per second (extremes pass + bins pass read each value at least twice)',
});
bench({ name: 'dawn_wasm_inference_ms_per_sample', value: per((r) => r.inferenceMs), unit: 'ms', ...common });
const diff = runs.map((r) => differing(r.cpu, r.gpu));
bench({
  name: 'dawn_webgpu_fold_bins_differing',
  value: Math.max(...diff.map((d) => d.bins)),
  unit: 'bins',
  target: 0,
  ...common,
});
bench({
  name: 'dawn_webgpu_fold_extremes_differing',
  value: Math.max(...diff.map((d) => d.extremes)),
  unit: 'tensors',
  target: 0,
  ...common,
});
statistics.dispose();
process.exit(0);
